import CMalloc

/// Keeps the agent's heap in one malloc arena.
///
/// glibc gives each thread that allocates while another holds the lock an arena of its
/// own, up to 8 per core, and each arena keeps the memory freed into it. The agent's
/// threads (the reading thread, the cooperative pool, the HTTP client's event loop) pass
/// chunks and request bodies between them, so the freed memory of one thread's arena
/// is not reused by the next thread's allocations: 1–4 MB more resident at a backlog's
/// peak, with no measurable gain in speed (`tailtrack bench`, six runs each way). The
/// threads' own small-block caches (tcache) still serve most allocations without a lock.
public enum MallocArenas {
    /// Sets glibc's `M_ARENA_MAX` to `count` for the rest of the process's life; returns
    /// whether glibc accepted it. Call it before the process starts its threads: an arena
    /// already created stays.
    @discardableResult
    public static func limit(to count: Int32 = 1) -> Bool {
        mallopt(M_ARENA_MAX, count) == 1
    }

    /// Gives the free memory inside the heap back to the system (`malloc_trim`): after a
    /// multi-megabyte buffer is freed, glibc keeps its pages for reuse, and with one arena
    /// and the dynamic mmap threshold they would stay resident until the next one.
    public static func trim() {
        _ = malloc_trim(0)
    }
}
