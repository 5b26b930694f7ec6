#ifndef TAILTRACK_CZLIB_SHIM_H
#define TAILTRACK_CZLIB_SHIM_H
#include <zlib.h>
#endif
