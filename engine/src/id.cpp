#include "p2plab/id.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace p2plab {

std::string Id::to_digits(int bits, int digit_bits) const {
  std::string text;
  for (int i = 0; i < bits / digit_bits; ++i) text += digit_char(digit(i, bits, digit_bits));
  return text;
}

std::string Id::to_decimal() const {
  if (fits_u64()) return std::to_string(limb[0]);
  // Repeated division by 10^9 on 32-bit halves: a step's remainder (below 10^9 < 2^30) shifted
  // up by 32 bits stays within 64, and each pass gives nine digits (6 passes for 160 bits, where
  // one digit per pass took 49: results' ids as JSON text were a tenth of a test's time).
  constexpr std::uint64_t kNineDigits = 1'000'000'000;
  std::array<std::uint32_t, 6> parts{};
  for (int i = 0; i < 3; ++i) {
    parts[2 * i] = static_cast<std::uint32_t>(limb[i]);
    parts[2 * i + 1] = static_cast<std::uint32_t>(limb[i] >> 32);
  }
  // The digits written from the end of a buffer, then copied once (a string grown digit by digit
  // and reversed cost a call per digit). 192 bits, all three limbs, need 58 digits: 7 passes.
  std::array<char, 7 * 9> digits{};
  std::size_t first = digits.size();
  auto is_zero = [&] { return std::all_of(parts.begin(), parts.end(), [](auto p) { return p == 0; }); };
  while (!is_zero()) {
    std::uint64_t rem = 0;
    for (int i = 5; i >= 0; --i) {
      const std::uint64_t cur = (rem << 32) | parts[i];
      parts[i] = static_cast<std::uint32_t>(cur / kNineDigits);
      rem = cur % kNineDigits;
    }
    for (int digit = 0; digit < 9; ++digit, rem /= 10) digits[--first] = static_cast<char>('0' + rem % 10);
  }
  while (first + 1 < digits.size() && digits[first] == '0') ++first;  // the last pass's leading zeros
  return std::string(digits.data() + first, digits.size() - first);
}

std::optional<Id> Id::from_decimal(std::string_view text) {
  if (text.empty() || text.size() > 49) return std::nullopt;
  Id value;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    // value = value * 10 + digit, watching for overflow past 160 bits.
    std::uint64_t carry = static_cast<std::uint64_t>(c - '0');
    for (auto& l : value.limb) {
      const std::uint64_t lo = (l & 0xffffffffULL) * 10 + carry;
      const std::uint64_t hi = (l >> 32) * 10 + (lo >> 32);
      l = (hi << 32) | (lo & 0xffffffffULL);
      carry = hi >> 32;
    }
    if (carry != 0 || (value.limb[2] >> 32) != 0) return std::nullopt;
  }
  return value;
}

double Id::to_double() const {
  return static_cast<double>(limb[2]) * 18446744073709551616.0 * 18446744073709551616.0 +
         static_cast<double>(limb[1]) * 18446744073709551616.0 + static_cast<double>(limb[0]);
}

Id Id::power_of_two(int i) {
  Id r;
  if (i >= 0 && i < 160) r.limb[static_cast<std::size_t>(i / 64)] = 1ULL << (i % 64);
  return r;
}

Id Id::low_bits(int m) const {
  Id r;
  for (int i = 0; i < 3; ++i) {
    const int in_limb = std::clamp(m - 64 * i, 0, 64);
    const std::uint64_t mask = in_limb == 64 ? ~0ULL : ((1ULL << in_limb) - 1);
    r.limb[static_cast<std::size_t>(i)] = limb[static_cast<std::size_t>(i)] & mask;
  }
  return r;
}

IdSpace::IdSpace(int bits) : bits_(bits) {
  if (bits < 1 || bits > kMaxBits) throw std::invalid_argument("id space must have 1 to 160 bits");
  for (int i = 0; i < 3; ++i) {
    const int in_limb = std::clamp(bits - 64 * i, 0, 64);
    mask_.limb[i] = in_limb == 64 ? ~0ULL : ((1ULL << in_limb) - 1);
  }
}

namespace {
/// OpenSSL 3 looks an algorithm up by name (under a lock) every time it is handed EVP_sha1();
/// fetched once, the lookup is gone: a million ids (a benchmark's ring) hash in 0.16 s, not
/// 0.35 s. Each thread reuses one context (freed when its thread ends; the method lives on).
const EVP_MD* sha1_method() {
  static const EVP_MD* const method = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    if (m == nullptr) throw std::runtime_error("OpenSSL has no SHA-1");
    return m;
  }();
  return method;
}
EVP_MD_CTX* sha1_context() {
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  return context.ctx;
}
}  // namespace

Id sha1_id(std::string_view text) {
  constexpr int kDigestBytes = 20;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* ctx = sha1_context();
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, sha1_method(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, text.data(), text.size()) != 1 || EVP_DigestFinal_ex(ctx, digest, &length) != 1 ||
      length != kDigestBytes) {
    throw std::runtime_error("OpenSSL could not compute SHA-1");
  }
  Id r;
  for (int byte = 0; byte < kDigestBytes; ++byte) {
    const int bit_from_low = 8 * (kDigestBytes - 1 - byte);
    r.limb[bit_from_low / 64] |= static_cast<std::uint64_t>(digest[byte]) << (bit_from_low % 64);
  }
  return r;
}

Id IdSpace::hash(std::string_view text) const { return reduce(sha1_id(text)); }

}  // namespace p2plab
