#include "sim/cli/heap_pages.h"

#ifdef COLLSIM_TCMALLOC
#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#endif

namespace collsim::cli {

#ifdef COLLSIM_TCMALLOC
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;  // x86-64's PMD page

std::uintptr_t round_up(std::uintptr_t v, std::size_t to) { return (v + to - 1) / to * to; }

// tcmalloc grows its heap through this (gperftools' SysAllocator: `size`
// bytes aligned to `alignment`, the bytes actually given in *actual_size).
class HugePageAllocator : public SysAllocator {
 public:
  explicit HugePageAllocator(SysAllocator* fallback) : fallback_(fallback) {}
  void* Alloc(std::size_t size, std::size_t* actual_size, std::size_t alignment) override {
    const std::size_t align = std::max(alignment, kHugePage);
    const std::size_t length = round_up(size, kHugePage);
    void* mapped = mmap(nullptr, length + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return fallback_ ? fallback_->Alloc(size, actual_size, alignment) : nullptr;
    // Keep the aligned middle; give the rest back.
    const auto begin = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t start = round_up(begin, align);
    const std::uintptr_t end = begin + length + align;
    if (start > begin) munmap(mapped, start - begin);
    if (end > start + length) munmap(reinterpret_cast<void*>(start + length), end - start - length);
    madvise(reinterpret_cast<void*>(start), length, MADV_HUGEPAGE);
    if (actual_size) *actual_size = length;
    return reinterpret_cast<void*>(start);
  }

 private:
  SysAllocator* fallback_;
};

}  // namespace

void use_huge_pages_for_heap() {
  if (const char* env = std::getenv("COLLSIM_HUGE_PAGES"); env && std::strcmp(env, "0") == 0) return;
  MallocExtension* extension = MallocExtension::instance();
  // Lives as long as the process (tcmalloc calls it until exit): static
  // storage, never destroyed.
  alignas(HugePageAllocator) static unsigned char storage[sizeof(HugePageAllocator)];
  extension->SetSystemAllocator(new (storage) HugePageAllocator(extension->GetSystemAllocator()));
  // Freed memory stays with tcmalloc for the next allocation (above), unless
  // the environment names a rate of its own.
  if (std::getenv("TCMALLOC_RELEASE_RATE") == nullptr) extension->SetMemoryReleaseRate(0);
}
#else
void use_huge_pages_for_heap() {}
#endif

}  // namespace collsim::cli
