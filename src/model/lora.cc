#include "model/lora.h"

#include <omp.h>

#include <set>

#include "gguf/gguf.h"
#include "tensor/quant.h"
#include "util/error.h"

namespace tandem {
namespace {

constexpr std::string_view kSuffixA = ".lora_a", kSuffixB = ".lora_b";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A 2-D adapter tensor as F32 (adapters are small: converting is cheap).
std::vector<float> as_f32(const gguf::File& f, const gguf::TensorInfo& t) {
  if (!can_dequantize(t.type)) f.fail("tensor " + t.name + " has unsupported type " + std::string(type_name(t.type)));
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  const int64_t row = t.ne[0];
  const size_t stride = row_bytes(t.type, row);
  for (int64_t r = 0; r < t.n_elements() / row; ++r) {
    dequantize_row(t.type, t.data + static_cast<size_t>(r) * stride, out.data() + r * row, row);
  }
  return out;
}

}  // namespace

void apply_lora_adapters(const std::vector<LoraAdapter>& adapters, const std::string& arch,
                         const std::map<std::string, WeightMatrix*>& targets, std::vector<std::vector<float>>& owned) {
  std::set<const WeightMatrix*> merged;  // matrices already rebound to an owned F32 copy
  for (const LoraAdapter& ad : adapters) {
    auto f = gguf::File::open(ad.path);
    if (f->get_string_or("general.type", "") != "adapter" || f->get_string_or("adapter.type", "") != "lora") {
      f->fail("not a LoRA adapter (general.type must be \"adapter\" and adapter.type \"lora\")");
    }
    const std::string ad_arch = f->get_string_or("general.architecture", "");
    if (ad_arch != arch) f->fail("the adapter is for architecture '" + ad_arch + "' but the model is '" + arch + "'");
    if (!f->has("adapter.lora.alpha")) f->fail("adapter.lora.alpha is missing");
    const double alpha = f->get_float("adapter.lora.alpha");

    int pairs = 0;
    for (const gguf::TensorInfo& ta : f->tensors()) {
      if (ends_with(ta.name, kSuffixB)) {
        const std::string base = ta.name.substr(0, ta.name.size() - kSuffixB.size());
        if (!f->find_tensor(base + std::string(kSuffixA))) f->fail("tensor " + ta.name + " has no " + base + ".lora_a");
        continue;
      }
      if (!ends_with(ta.name, kSuffixA)) f->fail("tensor " + ta.name + " is neither a .lora_a nor a .lora_b tensor");
      const std::string base = ta.name.substr(0, ta.name.size() - kSuffixA.size());
      const gguf::TensorInfo* tb = f->find_tensor(base + std::string(kSuffixB));
      if (!tb) f->fail("tensor " + ta.name + " has no " + base + ".lora_b");
      auto it = targets.find(base);
      if (it == targets.end()) f->fail("the model has no adaptable matrix " + base);
      WeightMatrix& w = *it->second;
      if (ta.ne.size() != 2 || tb->ne.size() != 2) f->fail("LoRA tensors of " + base + " must be 2-D");
      const int64_t rank = ta.ne[1];
      if (ta.ne[0] != w.n_in || tb->ne[1] != w.n_out || tb->ne[0] != rank || rank <= 0) {
        f->fail("LoRA tensors of " + base + " have shapes " + ta.shape_string() + " and " + tb->shape_string() +
                " but the matrix is [" + std::to_string(w.n_in) + ", " + std::to_string(w.n_out) +
                "]: expected [" + std::to_string(w.n_in) + ", r] and [r, " + std::to_string(w.n_out) + "]");
      }
      const std::vector<float> A = as_f32(*f, ta), B = as_f32(*f, *tb);  // A: rank x n_in, B: n_out x rank
      if (!merged.count(&w)) {
        if (!can_dequantize(w.type)) f->fail("cannot merge into " + base + " of type " + std::string(type_name(w.type)));
        owned.emplace_back(static_cast<size_t>(w.n_in * w.n_out));
        float* dst = owned.back().data();
        for (int64_t o = 0; o < w.n_out; ++o) dequantize_row(w.type, w.row(o), dst + o * w.n_in, w.n_in);
        w = WeightMatrix{TensorType::F32, w.n_in, w.n_out, reinterpret_cast<const uint8_t*>(dst)};
        merged.insert(&w);
      }
      float* W = const_cast<float*>(reinterpret_cast<const float*>(w.data));  // our own buffer
      const float s = static_cast<float>(ad.scale * alpha / static_cast<double>(rank));
      const int64_t n_in = w.n_in;
#pragma omp parallel for schedule(static)
      for (int64_t o = 0; o < w.n_out; ++o) {
        for (int64_t k = 0; k < rank; ++k) {
          const float bk = s * B[static_cast<size_t>(o * rank + k)];
          const float* a = A.data() + k * n_in;
          float* row = W + o * n_in;
          for (int64_t i = 0; i < n_in; ++i) row[i] += bk * a[i];
        }
      }
      ++pairs;
    }
    if (pairs == 0) f->fail("the adapter holds no LoRA tensors");
  }
}

}  // namespace tandem
