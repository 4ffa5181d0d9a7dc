// The executable's heap on transparent huge pages, where the kernel offers
// them on request (Debian's default: /sys/kernel/mm/transparent_hugepage/
// enabled = madvise). A big cluster touches its heap once, page by page: the
// 131,072-GPU analytical all-reduce faults in about 1.7 GB, 400,000 pages of
// 4 KiB, and those faults were a third of its time on a 2-core virtual
// machine. In 2 MiB pages the same heap is 850 faults (docs/performance.md).
#pragma once

namespace collsim::cli {

// Hands tcmalloc (when the executable links it, CMakeLists.txt) a system
// allocator that maps its heap in 2 MiB-aligned regions marked
// MADV_HUGEPAGE, falling back to tcmalloc's own where mapping fails. Call
// first in main(), once. A no-op without tcmalloc, and where the kernel has
// no transparent huge pages (madvise then has no effect). ASSUMPTION (named
// COLLSIM_HUGE_PAGES, overridable): on unless the environment sets
// COLLSIM_HUGE_PAGES=0.
void use_huge_pages_for_heap();

}  // namespace collsim::cli
