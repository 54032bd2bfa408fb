#include "train/run_settings.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "train/fingerprint.h"
#include "util/error.h"

namespace tandem::train {
namespace {

struct SettingInfo {
  const char* name;
  const char* label;  // how an error message names it
  bool shape;         // fixes the parameter layout: never overridden
};

// In the order a resume checks them: the shape first.
constexpr SettingInfo kSettings[] = {
    {"vocab-size", "the vocabulary size", true},
    {"dim", "--dim", true},
    {"layers", "--layers", true},
    {"heads", "--heads", true},
    {"kv-heads", "--kv-heads", true},
    {"ff", "--ff", true},
    {"tied", "--tied", true},
    {"lora-rank", "--lora-rank", true},
    {"lora-targets", "--lora-targets", true},
    {"ctx", "--ctx", false},
    {"rope-base", "the RoPE base", false},
    {"norm-eps", "the RMSNorm epsilon", false},
    {"batch", "--batch", false},
    {"seq", "--seq", false},
    {"accum", "--accum", false},
    {"steps", "--steps", false},
    {"lr", "--lr", false},
    {"min-lr", "--min-lr", false},
    {"warmup", "--warmup", false},
    {"wd", "--wd", false},
    {"beta1", "AdamW beta1", false},
    {"beta2", "AdamW beta2", false},
    {"adam-eps", "AdamW eps", false},
    {"clip", "--clip", false},
    {"seed", "--seed", false},
    {"lora-alpha", "--lora-alpha", false},
    {"kd-alpha", "--kd-alpha", false},
    {"kd-temp", "--kd-temp", false},
    {"kd-reverse", "--kd-reverse", false},
    {"data",
     "the training data (a --data or --pairs file, --max-docs, --valid-frac, --synth-*, a weight or the vocabulary)",
     false},
};

const SettingInfo* info(const std::string& name) {
  for (const auto& s : kSettings) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

std::string label(const std::string& name) {
  const SettingInfo* s = info(name);
  return s ? s->label : "--" + name;
}

std::string real(double v) {
  char buf[64];
  // %g style, as few digits as read back exactly: 0.0003, 1e-08, 10000.
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  return std::string(buf, r.ptr);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

bool named(const std::vector<std::string>& overrides, const std::string& name) {
  return std::find(overrides.begin(), overrides.end(), name) != overrides.end();
}

}  // namespace

RunSettings run_settings(const TrainOptions& o, uint64_t data_fingerprint, bool distilling) {
  const ModelShape& m = o.shape;
  const bool lora = o.lora.rank > 0;
  RunSettings s = {
      {"vocab-size", std::to_string(m.n_vocab)},
      {"dim", std::to_string(m.n_embd)},
      {"layers", std::to_string(m.n_layer)},
      {"heads", std::to_string(m.n_head)},
      {"kv-heads", std::to_string(m.n_head_kv)},
      {"ff", std::to_string(m.n_ff)},
      {"tied", m.tied_output ? "yes" : "no"},
      {"lora-rank", std::to_string(o.lora.rank)},
      {"lora-targets", lora ? join(o.lora.targets) : "-"},
      {"ctx", std::to_string(m.n_ctx)},
      {"rope-base", real(m.rope_base)},
      {"norm-eps", real(m.norm_eps)},
      {"batch", std::to_string(o.batch)},
      {"seq", std::to_string(o.seq_len)},
      {"accum", std::to_string(o.accum)},
      {"steps", std::to_string(o.steps)},
      {"lr", real(o.schedule.lr)},
      {"min-lr", real(o.schedule.min_lr)},
      {"warmup", std::to_string(o.schedule.warmup_steps)},
      {"wd", real(o.adam.weight_decay)},
      {"beta1", real(o.adam.beta1)},
      {"beta2", real(o.adam.beta2)},
      {"adam-eps", real(o.adam.eps)},
      {"clip", real(o.clip)},
      {"seed", std::to_string(o.seed)},
      {"lora-alpha", lora ? real(o.lora.alpha) : "-"},
      {"kd-alpha", distilling ? real(o.kd_alpha) : "-"},
      {"kd-temp", distilling ? real(o.kd_tau) : "-"},
      {"kd-reverse", distilling ? (o.kd_direction == KlDirection::kReverse ? "yes" : "no") : "-"},
      {"data", fingerprint_hex(data_fingerprint)},
  };
  for (const auto& [name, value] : o.inputs) {
    if (!s.emplace(name, value).second) throw Error("trainer: the input \"" + name + "\" has the name of an option");
  }
  return s;
}

void check_override_names(const std::vector<std::string>& overrides, const RunSettings& known) {
  for (const auto& name : overrides) {
    if (name == "all") continue;
    if (!known.contains(name)) {
      std::string names;
      for (const auto& [n, v] : known) {
        if (!info(n) || !info(n)->shape) names += " " + n;
      }
      throw Error("--override " + name + ": no such setting; the settings that can be overridden are all," + names);
    }
    if (info(name) && info(name)->shape) {
      throw Error("--override " + name + ": " + label(name) +
                  " is part of the model's shape, which cannot change on resume");
    }
  }
}

std::vector<SettingChange> compare_run_settings(const RunSettings& checkpoint, const RunSettings& now,
                                                const std::vector<std::string>& overrides, const std::string& where) {
  // The table's order first, then the rest (inputs) by name.
  std::vector<std::string> order;
  for (const auto& s : kSettings) order.push_back(s.name);
  std::set<std::string> rest;
  for (const auto* side : {&checkpoint, &now}) {
    for (const auto& [name, v] : *side) {
      if (!info(name)) rest.insert(name);
    }
  }
  order.insert(order.end(), rest.begin(), rest.end());

  const bool all = named(overrides, "all");
  std::vector<SettingChange> changes;
  for (const auto& name : order) {
    auto a = checkpoint.find(name), b = now.find(name);
    const std::string before = a == checkpoint.end() ? "not recorded" : a->second;
    const std::string after = b == now.end() ? "not recorded" : b->second;
    if (before == after) continue;
    const std::string head = where + ": " + label(name) + " differs from the checkpoint (checkpoint " + before +
                             ", now " + after + ")";
    if (info(name) && info(name)->shape) throw Error(head + "; the model's shape cannot change on resume");
    if (!all && !named(overrides, name)) {
      throw Error(head + "; use --override " + name + " to change it deliberately");
    }
    changes.push_back({name, label(name), before, after});
  }
  return changes;
}

}  // namespace tandem::train
