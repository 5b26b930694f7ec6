#ifndef TAILTRACK_CMALLOC_SHIM_H
#define TAILTRACK_CMALLOC_SHIM_H
#include <malloc.h>
#endif
