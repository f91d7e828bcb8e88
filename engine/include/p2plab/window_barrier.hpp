#pragma once
// Where the parallel simulator's threads meet at each window's end. They meet three times per
// window, thousands of times a second (the benchmark at 10^6 peers: 10,000 windows of 10 ms in
// 100 simulated seconds), and std::barrier puts a waiter to sleep in the kernel almost at once,
// so that every meeting paid a wake-up: about 50 us a meeting on the 2-core VM, 0.15 s of a 6-s
// run at the transfer point alone, where the threads arrive within microseconds of each other.
// A waiter here spins first, for about as long as a wake-up costs, then sleeps
// (std::atomic::wait): on a loaded machine a thread must not burn a core that another needs.
#include <atomic>
#include <cstdint>

namespace p2plab {

class WindowBarrier {
 public:
  explicit WindowBarrier(std::uint32_t threads) : threads_(threads) {}

  /// Waits until all threads have arrived. The last to arrive runs `last()` first, while the
  /// others wait: what it writes is visible to every thread when they go on, and so is what each
  /// thread wrote before it arrived.
  ///
  /// A waiter calls `idle()` while it waits, as long as it returns true (it did some work; it
  /// should take well under a microsecond, the others are not held up longer): the time a thread
  /// would spin is spent on work no one waits for. Idle work may still be running when the
  /// others go on: what it touches must be guarded against what they do next.
  template <class Last, class Idle>
  void arrive_and_wait(Last&& last, Idle&& idle) {
    const std::uint32_t generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      last();
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(generation + 1, std::memory_order_release);
      generation_.notify_all();
      return;
    }
    while (generation_.load(std::memory_order_acquire) == generation && idle()) {
    }
    for (int spin = 0; spin < kSpins; ++spin) {
      if (generation_.load(std::memory_order_acquire) != generation) return;
      pause();
    }
    while (generation_.load(std::memory_order_acquire) == generation) {
      generation_.wait(generation, std::memory_order_acquire);
    }
  }
  template <class Last>
  void arrive_and_wait(Last&& last) {
    arrive_and_wait(last, [] { return false; });
  }
  void arrive_and_wait() {
    arrive_and_wait([] {});
  }

  /// The CPU's spin-wait hint.
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

 private:
  // ~20-80 us of spinning, depending on how long the CPU's pause is.
  static constexpr int kSpins = 2000;
  const std::uint32_t threads_;
  alignas(64) std::atomic<std::uint32_t> arrived_{0};
  alignas(64) std::atomic<std::uint32_t> generation_{0};
};

}  // namespace p2plab
