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
//
// With it, memory the program frees is kept for its next allocations
// instead of being given back to the system (tcmalloc's release rate 0): a
// page given back and touched again faults again, in 4 KiB pieces of what
// was a huge page. The 131,072-GPU analytical tree all-reduce gave back and
// re-touched about 500 MB (the network's build scratch, then the
// schedules'): 31,000 faults and 5.2-5.9 s, against 4,700 and 4.2-4.3 s
// kept, its peak RSS 1.38 GB to 1.59 GB (docs/performance.md).
// ASSUMPTION (overridable): release rate 0 unless the environment sets
// TCMALLOC_RELEASE_RATE (tcmalloc's own variable) or COLLSIM_HUGE_PAGES=0.
void use_huge_pages_for_heap();

}  // namespace collsim::cli
