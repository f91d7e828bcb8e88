#pragma once
// Runs one piece of work per thread and waits for all of them: building a large network on
// every core the run was given (hashing ids, installing routing tables), where each piece
// writes only its own part.
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace p2plab {

/// Calls work(t) for t = 0 .. threads-1, work(0) on the calling thread, the others on threads of
/// their own; returns when all have. If any throws, the exception of the lowest t is rethrown
/// (after all have ended: none is left running on data the caller may free).
template <class Work>
void run_on_threads(std::size_t threads, Work&& work) {
  if (threads <= 1) {
    work(std::size_t{0});
    return;
  }
  std::vector<std::exception_ptr> errors(threads);
  auto guarded = [&](std::size_t t) {
    try {
      work(t);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> others;
  others.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) others.emplace_back(guarded, t);
  guarded(0);
  for (std::thread& t : others) t.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace p2plab
