#include "decode/text_metrics.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "util/text.h"

namespace tandem::decode {

namespace {
std::vector<std::string> normalized_tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isspace(c)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else if (!std::ispunct(c)) {
      cur += static_cast<char>(std::tolower(c));
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}
}  // namespace

double exact_match(std::string_view a, std::string_view b) { return trim(a) == trim(b) ? 1.0 : 0.0; }

double token_f1(std::string_view a, std::string_view b) {
  const auto ta = normalized_tokens(a), tb = normalized_tokens(b);
  if (ta.empty() && tb.empty()) return 1.0;
  if (ta.empty() || tb.empty()) return 0.0;
  std::map<std::string, int> count;
  for (const auto& t : ta) ++count[t];
  int common = 0;
  for (const auto& t : tb)
    if (count[t]-- > 0) ++common;
  if (common == 0) return 0.0;
  const double p = static_cast<double>(common) / static_cast<double>(ta.size());
  const double r = static_cast<double>(common) / static_cast<double>(tb.size());
  return 2 * p * r / (p + r);
}

double chrf(std::string_view hyp, std::string_view ref, int max_n, double beta) {
  // Characters as UTF-8 code point strings, whitespace removed.
  auto chars = [](std::string_view s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      const size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
      if (!std::isspace(c)) out.emplace_back(s.substr(i, len));
      i += len;
    }
    return out;
  };
  const auto h = chars(hyp), r = chars(ref);
  double sum_p = 0, sum_r = 0;
  int n_used = 0;
  for (int n = 1; n <= max_n; ++n) {
    if (static_cast<int>(h.size()) < n || static_cast<int>(r.size()) < n) break;
    std::map<std::string, int> hc, rc;
    for (size_t i = 0; i + static_cast<size_t>(n) <= h.size(); ++i) {
      std::string g;
      for (int k = 0; k < n; ++k) g += h[i + static_cast<size_t>(k)];
      ++hc[g];
    }
    for (size_t i = 0; i + static_cast<size_t>(n) <= r.size(); ++i) {
      std::string g;
      for (int k = 0; k < n; ++k) g += r[i + static_cast<size_t>(k)];
      ++rc[g];
    }
    int match = 0, nh = 0, nr = 0;
    for (const auto& [g, c] : hc) {
      nh += c;
      auto it = rc.find(g);
      if (it != rc.end()) match += std::min(c, it->second);
    }
    for (const auto& [g, c] : rc) nr += c;
    sum_p += static_cast<double>(match) / nh;
    sum_r += static_cast<double>(match) / nr;
    ++n_used;
  }
  if (n_used == 0) return trim(hyp) == trim(ref) ? 1.0 : 0.0;
  const double p = sum_p / n_used, rr = sum_r / n_used;
  if (p + rr == 0) return 0.0;
  const double b2 = beta * beta;
  return (1 + b2) * p * rr / (b2 * p + rr);
}

}  // namespace tandem::decode
