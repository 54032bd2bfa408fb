#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "model/transformer.h"
#include "train/checkpoint.h"
#include "train/run_settings.h"
#include "util/error.h"

namespace tandem::train {
namespace {

// Distinct streams from one seed: model init, data sampling, evaluation rows.
constexpr uint64_t kDataStream = 0x5DEECE66Dull;
constexpr uint64_t kEvalStream = 0xC0FFEEull;

std::string format_duration(double s) {
  char buf[32];
  const int64_t t = static_cast<int64_t>(s);
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", static_cast<long>(t / 3600), static_cast<long>(t / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", static_cast<long>(t / 60), static_cast<long>(t % 60));
  }
  return buf;
}

TrainModel<float> make_model(const TrainOptions& o) {
  TrainModel<float> m(o.shape);
  m.init_random(o.seed);
  if (o.lora.rank > 0) m.enable_lora(o.lora, o.seed);
  return m;
}

}  // namespace

Trainer::Trainer(TrainOptions options, DataMix train, std::shared_ptr<const DataSource> valid)
    : opt_(std::move(options)),
      train_(std::move(train)),
      valid_(std::move(valid)),
      data_fingerprint_(train_.fingerprint()),
      model_(make_model(opt_)),
      adam_(model_.lora_enabled() ? model_.lora_tensors() : model_.tensors(),
            model_.lora_enabled() ? model_.lora_params.size() : model_.n_params(), opt_.adam),
      data_rng_(Rng::seeded(opt_.seed, kDataStream)) {
  if (train_.empty()) throw Error("trainer: no training data");
  if (opt_.seq_len < 1 || opt_.seq_len > opt_.shape.n_ctx) {
    throw Error("trainer: --seq " + std::to_string(opt_.seq_len) + " must be in 1..n_ctx (" +
                std::to_string(opt_.shape.n_ctx) + ")");
  }
  if (opt_.batch < 1 || opt_.accum < 1 || opt_.steps < 1) throw Error("trainer: batch, accum and steps must be positive");
  opt_.schedule.total_steps = opt_.steps;
  check_override_names(opt_.overrides, run_settings(opt_, data_fingerprint_, false));
  tokens_.resize(static_cast<size_t>(opt_.batch * opt_.seq_len));
  targets_.resize(tokens_.size());
}

void Trainer::resume(const std::string& path) {
  Checkpoint ck = read_checkpoint(path);
  const RunSettings now = run_settings(opt_, data_fingerprint_, teacher_ != nullptr);
  std::vector<SettingChange> changes;
  if (ck.version < 2) {
    // No settings recorded: check the shape (with every other setting waived).
    TrainOptions old = opt_;
    old.shape = ck.shape;
    compare_run_settings(run_settings(old, data_fingerprint_, teacher_ != nullptr), now, {"all"}, path);
    if (std::find(opt_.overrides.begin(), opt_.overrides.end(), "all") == opt_.overrides.end()) {
      throw Error(path + ": this checkpoint (format version " + std::to_string(ck.version) +
                  ") does not record the training options, so resuming cannot check that they are unchanged; "
                  "if they are, resume it with --override all");
    }
    if (!opt_.quiet) std::printf("resume: %s records no options (format version 1); not checked\n", path.c_str());
  } else {
    changes = compare_run_settings(ck.settings, now, opt_.overrides, path);
  }
  if (ck.params.size() != trainable().size()) {
    throw Error(path + ": the checkpoint holds " + std::to_string(ck.params.size()) + " trained parameters, this run " +
                std::to_string(trainable().size()) + " (same --lora-rank and targets?)");
  }
  for (const auto& c : changes) {
    if (!opt_.quiet) {
      std::printf("resume: %s changed deliberately (checkpoint %s, now %s)\n", c.label.c_str(), c.checkpoint.c_str(),
                  c.now.c_str());
    }
  }
  trainable() = std::move(ck.params);
  adam_.m() = std::move(ck.m);
  adam_.v() = std::move(ck.v);
  adam_.set_t(ck.adam_t);
  data_rng_.set_state(ck.data_rng);
  step_ = ck.step;
  tokens_seen_ = ck.tokens_seen;
  elapsed_s_ = ck.elapsed_s;
  train_loss_ = std::move(ck.train_loss);
  val_loss_ = std::move(ck.val_loss);
}

void Trainer::set_teacher(std::shared_ptr<Transformer> teacher) {
  if (teacher && teacher->config().n_vocab != opt_.shape.n_vocab) {
    throw Error("distillation: the teacher has " + std::to_string(teacher->config().n_vocab) +
                " tokens in its vocabulary, the student " + std::to_string(opt_.shape.n_vocab) +
                "; train the student with the teacher's vocabulary");
  }
  teacher_ = std::move(teacher);
}

void Trainer::save_checkpoint() {
  if (opt_.checkpoint_path.empty()) return;
  Checkpoint ck;
  ck.shape = opt_.shape;
  ck.settings = run_settings(opt_, data_fingerprint_, teacher_ != nullptr);
  ck.step = step_;
  ck.adam_t = adam_.t();
  ck.data_rng = data_rng_.state();
  ck.tokens_seen = tokens_seen_;
  ck.elapsed_s = elapsed_s_;
  ck.train_loss = train_loss_;
  ck.val_loss = val_loss_;
  ck.params = trainable();
  ck.m = adam_.m();
  ck.v = adam_.v();
  write_checkpoint(ck, opt_.checkpoint_path);
}

double Trainer::evaluate() {
  if (!valid_) return NAN;
  Rng rng = Rng::seeded(opt_.seed, kEvalStream);  // the same rows at every evaluation
  double nll = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < opt_.eval_batches; ++i) {
    for (int64_t b = 0; b < opt_.batch; ++b) {
      valid_->sample_row(rng, tokens_.data() + b * opt_.seq_len, targets_.data() + b * opt_.seq_len, opt_.seq_len);
    }
    nll += model_.forward(tokens_.data(), targets_.data(), opt_.batch, opt_.seq_len);
    n += model_.n_scored();
  }
  return n > 0 ? nll / static_cast<double>(n) : NAN;
}

void Trainer::run(int64_t stop_after) {
  using Clock = std::chrono::steady_clock;
  const int64_t end = stop_after >= 0 ? std::min(opt_.steps, step_ + stop_after) : opt_.steps;
  const int64_t tokens_per_step = opt_.batch * opt_.seq_len * opt_.accum;
  auto window_start = Clock::now();
  int64_t window_tokens = 0;
  double window_loss = 0;
  int64_t window_steps = 0;
  while (step_ < end) {
    const auto t0 = Clock::now();
    model_.zero_grad();
    double nll = 0;
    int64_t scored = 0;
    for (int64_t micro = 0; micro < opt_.accum; ++micro) {
      train_.fill(data_rng_, tokens_.data(), targets_.data(), opt_.batch, opt_.seq_len);
      const double ce = model_.forward(tokens_.data(), targets_.data(), opt_.batch, opt_.seq_len);
      scored += model_.n_scored();
      if (!teacher_) {
        nll += ce;
        model_.backward(1.0f);
        continue;
      }
      // Distillation: the teacher's logits for the same rows, then the mixed loss.
      const int64_t N = opt_.batch * opt_.seq_len, V = opt_.shape.n_vocab;
      teacher_logits_.resize(static_cast<size_t>(N * V));
      std::vector<float> rows;
      ForwardContext ctx = teacher_->new_context();
      for (int64_t b = 0; b < opt_.batch; ++b) {
        KvCache cache = teacher_->new_cache(opt_.seq_len);
        teacher_->forward(ctx, cache, std::span<const TokenId>(tokens_.data() + b * opt_.seq_len, opt_.seq_len),
                          Logits::kAll, rows);
        std::copy(rows.begin(), rows.end(), teacher_logits_.begin() + b * opt_.seq_len * V);
      }
      mask_.resize(static_cast<size_t>(N));
      for (int64_t i = 0; i < N; ++i) mask_[i] = targets_[i] >= 0;
      const double a = opt_.kd_alpha, t2 = opt_.kd_tau * opt_.kd_tau;
      const double kl = kl_forward(model_.logits(), teacher_logits_.data(), mask_.data(), N, V, opt_.kd_tau,
                                   opt_.kd_direction);
      nll += (1 - a) * ce + a * t2 * kl;
      model_.clear_dlogits();
      model_.add_ce_grad(static_cast<float>(1 - a));
      kl_backward(model_.dlogits(), model_.logits(), teacher_logits_.data(), mask_.data(), N, V, opt_.kd_tau,
                  opt_.kd_direction, static_cast<float>(a * t2));
      model_.backward_from_logits();
    }
    // The loss is the mean NLL over all scored tokens of the step.
    const double loss = scored > 0 ? nll / static_cast<double>(scored) : 0.0;
    std::vector<float>& grads = trainable_grads();
    if (scored > 0) {
      const float inv = 1.0f / static_cast<float>(scored);
      for (float& g : grads) g *= inv;
    }
    const double norm = clip_grad_norm(grads.data(), grads.size(), opt_.clip);
    const double lr = opt_.schedule.at(step_);
    adam_.step(trainable().data(), grads.data(), lr);
    ++step_;
    tokens_seen_ += tokens_per_step;
    elapsed_s_ += std::chrono::duration<double>(Clock::now() - t0).count();
    train_loss_.push_back({step_, static_cast<float>(loss)});
    if (on_step) on_step(step_, loss);
    window_tokens += tokens_per_step;
    window_loss += loss;
    ++window_steps;

    const bool last = step_ == opt_.steps;
    if (!opt_.quiet && (step_ % std::max<int64_t>(1, opt_.log_every) == 0 || last || step_ == end)) {
      const double dt = std::chrono::duration<double>(Clock::now() - window_start).count();
      const double tps = dt > 0 ? static_cast<double>(window_tokens) / dt : 0.0;
      const double eta = tps > 0 ? static_cast<double>((opt_.steps - step_) * tokens_per_step) / tps : 0.0;
      std::printf("step %6ld/%ld | loss %.4f | lr %.2e | norm %6.3f | %7.0f tok/s | elapsed %s | ETA %s\n",
                  static_cast<long>(step_), static_cast<long>(opt_.steps), window_loss / window_steps, lr, norm, tps,
                  format_duration(elapsed_s_).c_str(), format_duration(eta).c_str());
      std::fflush(stdout);
      window_start = Clock::now();
      window_tokens = 0;
      window_loss = 0;
      window_steps = 0;
    }
    if (valid_ && ((opt_.eval_every > 0 && step_ % opt_.eval_every == 0) || last)) {
      const double vl = evaluate();
      val_loss_.push_back({step_, static_cast<float>(vl)});
      if (!opt_.quiet) {
        std::printf("step %6ld | validation loss %.4f (perplexity %.2f)\n", static_cast<long>(step_), vl, std::exp(vl));
        std::fflush(stdout);
      }
    }
    if (!opt_.svg_path.empty() && (last || step_ % std::max<int64_t>(1, opt_.log_every * 10) == 0)) {
      write_loss_svg(opt_.svg_path, train_loss_, val_loss_, "tandem train");
    }
    if (opt_.checkpoint_every > 0 && step_ % opt_.checkpoint_every == 0) save_checkpoint();
  }
  if (!opt_.checkpoint_path.empty()) save_checkpoint();
  if (!opt_.svg_path.empty()) write_loss_svg(opt_.svg_path, train_loss_, val_loss_, "tandem train");
}

void write_loss_svg(const std::string& path, const std::vector<std::pair<int64_t, float>>& train,
                    const std::vector<std::pair<int64_t, float>>& val, const std::string& title) {
  const double W = 720, H = 400, L = 60, R = 20, T = 30, B = 45;
  double xmax = 1, ymin = INFINITY, ymax = -INFINITY;
  for (const auto* s : {&train, &val}) {
    for (auto [x, y] : *s) {
      if (!std::isfinite(y)) continue;
      xmax = std::max(xmax, static_cast<double>(x));
      ymin = std::min(ymin, static_cast<double>(y));
      ymax = std::max(ymax, static_cast<double>(y));
    }
  }
  if (!(ymax > ymin)) {
    ymin = std::isfinite(ymin) ? ymin - 1 : 0;
    ymax = ymin + 2;
  }
  auto px = [&](double x) { return L + (W - L - R) * x / xmax; };
  auto py = [&](double y) { return T + (H - T - B) * (ymax - y) / (ymax - ymin); };
  std::string svg;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
                "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                W, H);
  svg += buf;
  std::snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"18\" font-size=\"14\">%s</text>\n", L, title.c_str());
  svg += buf;
  for (int i = 0; i <= 4; ++i) {
    const double y = ymin + (ymax - ymin) * i / 4.0, x = xmax * i / 4.0;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                  L, py(y), W - R, py(y), L - 5, py(y) + 4, y);
    svg += buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", px(x), H - B + 16,
                  x);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">step</text>"
                "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" text-anchor=\"middle\">loss (nats/token)</text>\n",
                (L + W - R) / 2, H - 8, (T + H - B) / 2, (T + H - B) / 2);
  svg += buf;
  auto polyline = [&](const std::vector<std::pair<int64_t, float>>& s, const char* color, const char* name, int row) {
    if (s.empty()) return;
    svg += "<polyline fill=\"none\" stroke=\"";
    svg += color;
    svg += "\" stroke-width=\"1.5\" points=\"";
    for (auto [x, y] : s) {
      if (!std::isfinite(y)) continue;
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", px(static_cast<double>(x)), py(y));
      svg += buf;
    }
    svg += "\"/>\n";
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>"
                  "<text x=\"%.1f\" y=\"%d\">%s</text>\n",
                  W - R - 150, 14 + 16 * row, W - R - 130, 14 + 16 * row, color, W - R - 125, 18 + 16 * row, name);
    svg += buf;
  };
  polyline(train, "#1f77b4", "train", 0);
  polyline(val, "#d62728", "validation", 1);
  svg += "</svg>\n";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot write the loss curve");
    out << svg;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error(path + ": cannot move the loss curve into place");
}

}  // namespace tandem::train
