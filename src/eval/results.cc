#include "eval/results.h"

#include <cmath>

namespace tandem::eval {
namespace {

MetricValue mean_with_stderr(const std::vector<double>& xs) {
  MetricValue m;
  const double n = static_cast<double>(xs.size());
  double sum = 0.0;
  for (const double x : xs) sum += x;
  m.value = sum / n;
  if (xs.size() > 1) {
    double ss = 0.0;
    for (const double x : xs) ss += (x - m.value) * (x - m.value);
    m.standard_error = std::sqrt(ss / (n - 1.0) / n);
  }
  return m;
}

void add_usage(CostTotals& t, const nlohmann::json& u) {
  t.prompt_tokens += u.value("prompt_tokens", int64_t{0});
  t.completion_tokens += u.value("completion_tokens", int64_t{0});
  t.scored_tokens += u.value("scored_tokens", int64_t{0});
  t.seconds += u.value("seconds", 0.0);
  t.cost += u.value("cost", 0.0);
  if (u.contains("flops")) t.flops += u["flops"].get<double>();
  else ++t.flops_missing;
}

nlohmann::ordered_json totals_json(const CostTotals& t) {
  return {{"prompt_tokens", t.prompt_tokens}, {"completion_tokens", t.completion_tokens},
          {"scored_tokens", t.scored_tokens}, {"seconds", t.seconds}, {"cost", t.cost},
          {"flops", t.flops_known() ? nlohmann::ordered_json(t.flops) : nlohmann::ordered_json(nullptr)}};
}

}  // namespace

bool higher_is_better(const std::string& metric) {
  return !(metric == "perplexity" || metric == "word_perplexity" || metric == "byte_perplexity" ||
           metric == "bits_per_byte");
}

std::pair<double, double> wilson_interval(int64_t k, int64_t n) {
  if (n <= 0) return {0.0, 1.0};
  const double z = 1.96, nn = static_cast<double>(n), p = static_cast<double>(k) / nn;
  const double denom = 1.0 + z * z / nn;
  const double centre = (p + z * z / (2.0 * nn)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / nn + z * z / (4.0 * nn * nn)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Summary summarize(const std::vector<Record>& records) {
  Summary s;
  s.task = records.front().task;
  s.model = records.front().model;
  s.n = records.size();
  std::map<std::string, std::vector<double>> binary;
  double ll = 0.0, tokens = 0.0, bytes = 0.0, words = 0.0, latency = 0.0;
  bool rolling = false;
  for (const Record& r : records) {
    for (const char* key : {"exact_match", "acc", "acc_norm"})
      if (r.metrics.contains(key)) binary[key].push_back(r.metrics[key].get<double>());
    if (r.metrics.contains("loglikelihood")) {
      rolling = true;
      ll += r.metrics["loglikelihood"].get<double>();
      tokens += r.metrics.value("tokens", 0.0);
      bytes += r.metrics.value("bytes", 0.0);
      words += r.metrics.value("words", 0.0);
    }
    if (r.correct && *r.correct == 1) ++s.correct;
    for (const auto& [name, u] : r.tokens.items()) {
      add_usage(s.per_model[name], u);
      add_usage(s.total, u);
    }
    latency += r.latency_ms;
    if (r.note.starts_with("letter fallback")) ++s.letter_fallback;
    if (r.note.starts_with("failed: ")) ++s.failed;
    if (r.note.starts_with("prompt left-truncated")) ++s.truncated;
  }
  s.latency_ms_mean = latency / static_cast<double>(s.n);
  for (const auto& [key, xs] : binary) s.metrics[key] = mean_with_stderr(xs);
  if (rolling) {
    s.metrics["perplexity"] = {std::exp(-ll / std::max(1.0, tokens)), std::nullopt};
    s.metrics["word_perplexity"] = {std::exp(-ll / std::max(1.0, words)), std::nullopt};
    s.metrics["byte_perplexity"] = {std::exp(-ll / std::max(1.0, bytes)), std::nullopt};
    s.metrics["bits_per_byte"] = {-ll / std::max(1.0, bytes) / std::log(2.0), std::nullopt};
    s.primary = "perplexity";
  } else {
    s.primary = binary.count("exact_match") ? "exact_match" : "acc";
  }
  return s;
}

nlohmann::ordered_json results_json(const std::vector<TaskInfo>& tasks, const std::vector<Summary>& summaries,
                                    const RunInfo& run) {
  nlohmann::ordered_json j;
  nlohmann::ordered_json results = nlohmann::ordered_json::object(), extra = nlohmann::ordered_json::object();
  for (const Summary& s : summaries) {
    const std::string key = s.model + "/" + s.task;
    nlohmann::ordered_json r = {{"alias", s.task}};
    for (const auto& [metric, v] : s.metrics) {
      r[metric + ",none"] = v.value;
      r[metric + "_stderr,none"] = v.standard_error ? nlohmann::ordered_json(*v.standard_error) : "N/A";
    }
    results[key] = r;
    nlohmann::ordered_json per_model = nlohmann::ordered_json::object();
    for (const auto& [name, t] : s.per_model) per_model[name] = totals_json(t);
    extra[key] = {{"n", s.n}, {"correct", s.correct}, {"primary_metric", s.primary},
                  {"total", totals_json(s.total)}, {"per_model", per_model},
                  {"latency_ms_mean", s.latency_ms_mean}, {"letter_fallback_samples", s.letter_fallback},
                  {"failed_samples", s.failed}, {"truncated_samples", s.truncated}};
  }
  j["results"] = results;
  nlohmann::ordered_json configs, versions, nshot, hib, nsamples;
  nlohmann::ordered_json subsets = nlohmann::ordered_json::object();
  for (const TaskInfo& t : tasks) {
    const std::string& name = t.spec->name;
    nlohmann::ordered_json c = t.spec->config;
    c["output_type"] = output_type_name(t.spec->output_type);
    c["num_fewshot"] = t.spec->num_fewshot;
    c["metric_list"] = t.spec->metrics;
    configs[name] = c;
    versions[name] = t.spec->version;
    nshot[name] = t.spec->num_fewshot;
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    for (const Summary& s : summaries)
      if (s.task == name)
        for (const auto& [metric, v] : s.metrics) h[metric] = higher_is_better(metric);
    hib[name] = h;
    nsamples[name] = {{"original", t.n_dataset}, {"effective", t.n_selected}};
    if (!t.subset_ids.empty()) subsets[name] = t.subset_ids;
  }
  j["configs"] = configs;
  j["versions"] = versions;
  j["n-shot"] = nshot;
  j["higher_is_better"] = hib;
  j["n-samples"] = nsamples;
  j["config"] = run.config;
  nlohmann::ordered_json notes = nlohmann::ordered_json::object();
  for (const auto& [model, n] : run.model_notes) notes[model] = n;
  j["tandem"] = {{"cost_units", "cost: money in the currency of the config's price table (local models priced per "
                                "second of wall time); seconds: the models' wall time; tokens per underlying model; flops: "
                                "2 x parameter count x (prompt + completion + scored tokens) per underlying model, "
                                "null where a model's parameter count is unknown"},
                 {"models", run.models}, {"summaries", extra}, {"notes", notes}, {"subsets", subsets}};
  return j;
}

std::string samples_jsonl(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) {
    nlohmann::ordered_json j = {
        {"doc_id", r.example_index}, {"id", r.example_id}, {"target", r.gold}, {"resps", {r.output}},
        {"filtered_resps", {r.extracted ? nlohmann::ordered_json(*r.extracted) : nlohmann::ordered_json(nullptr)}},
        {"metrics", r.metrics},      {"correct", r.correct ? nlohmann::ordered_json(*r.correct) : nullptr},
        {"prompt_hash", r.prompt_hash}, {"tokens", r.tokens}, {"latency_ms", r.latency_ms}, {"cost", r.cost},
        {"answered_by", r.answered_by}, {"trace", r.trace}};
    if (!r.note.empty()) j["note"] = r.note;
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return out;
}

}  // namespace tandem::eval
