// Dynamic dispatch of the kernels in kernels-inl.h: foreach_target.h
// re-includes this file once per instruction set, and HWY_DYNAMIC_DISPATCH
// picks the best one the CPU supports on first call.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/kernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "tensor/kernels-inl.h"

#if HWY_ONCE
#include "hwy/targets.h"

namespace tandem::kernels {

HWY_EXPORT(DotRows);
HWY_EXPORT(DotMatrix);
HWY_EXPORT(HasSimd);
HWY_EXPORT(Encode);
HWY_EXPORT(SumF32);
HWY_EXPORT(RoundToHalf);

void dot_rows(TensorType type, int64_t n, const void* w_row, const uint8_t* acts, size_t act_stride, int n_acts,
              float* out) {
  HWY_DYNAMIC_DISPATCH(DotRows)(type, n, w_row, acts, act_stride, n_acts, out);
}

void dot_matrix(TensorType type, int64_t n, const uint8_t* w, size_t w_stride, int64_t row_begin, int64_t row_end,
                const uint8_t* acts, size_t act_stride, int64_t n_acts, float* y, int64_t y_stride, bool widened) {
  HWY_DYNAMIC_DISPATCH(DotMatrix)(type, n, w, w_stride, row_begin, row_end, acts, act_stride, n_acts, y, y_stride,
                                  widened);
}

bool has_simd_dot(TensorType type) { return HWY_DYNAMIC_DISPATCH(HasSimd)(type); }

void encode(TensorType act_type, const float* x, void* dst, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Encode)(act_type, x, dst, n);
}

float sum_f32(const float* x, int64_t n) { return HWY_DYNAMIC_DISPATCH(SumF32)(x, n); }

void round_to_half(const float* x, float* dst, int64_t n) { HWY_DYNAMIC_DISPATCH(RoundToHalf)(x, dst, n); }

const char* target_name() {
  // Better targets have lower bits; dispatch picks the best supported one.
  const int64_t targets = hwy::SupportedTargets() & HWY_TARGETS;
  return hwy::TargetName(targets & -targets);
}

std::vector<int64_t> available_targets() { return hwy::SupportedAndGeneratedTargets(); }

void restrict_to_target(int64_t target) { hwy::SetSupportedTargetsForTest(target); }

}  // namespace tandem::kernels
#endif  // HWY_ONCE
