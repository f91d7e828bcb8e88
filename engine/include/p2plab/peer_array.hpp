#pragma once
// Per-peer arrays of a million entries and more are read at random (one peer, then another):
// with 4 KiB pages almost every access also misses the TLB. Large arrays therefore ask the
// kernel for transparent huge pages (2 MiB), which makes those random reads much cheaper.
// On Linux they are mapped straight from the kernel (mmap), not from malloc: an array given
// back is returned at once, and no malloc arena keeps the slack of an aligned allocation, or
// the old copy of a grown array, resident (the peak of a run of 3 x 10^7 peers).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace p2plab {

template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  HugePageAllocator() = default;
  template <class U>
  constexpr HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) {
      return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T) > 16 ? alignof(T) : 16}));
    }
    const std::size_t rounded = round_up(bytes);
#if defined(__linux__)
    // Map one huge page more than needed, then unmap what lies before the first huge-page
    // boundary and after the array.
    void* raw = mmap(nullptr, rounded + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = round_up(start);
    if (aligned > start) munmap(raw, aligned - start);
    if (const std::uintptr_t end = start + rounded + kHugePage; end > aligned + rounded) {
      munmap(reinterpret_cast<void*>(aligned + rounded), end - (aligned + rounded));
    }
    void* p = reinterpret_cast<void*>(aligned);
#if defined(MADV_HUGEPAGE)
    madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without THP it is simply ignored
#endif
#else
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
#endif
    return static_cast<T*>(p);
  }

  static constexpr std::size_t round_up(std::size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugePage) {
      ::operator delete (p, std::align_val_t{alignof(T) > 16 ? alignof(T) : 16});
    } else {
#if defined(__linux__)
      munmap(p, round_up(n * sizeof(T)));
#else
      std::free(p);
#endif
    }
  }

  template <class U>
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator<U>&) {
    return true;
  }
};

/// A vector indexed by PeerIndex (or by peer and slot), backed by huge pages when large.
template <class T>
using PeerArray = std::vector<T, HugePageAllocator<T>>;

}  // namespace p2plab
