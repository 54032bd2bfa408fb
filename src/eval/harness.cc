#include "eval/harness.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

#include "compose/cascade.h"
#include "eval/hash.h"
#include "eval/scoring.h"
#include "eval/subset.h"
#include "util/error.h"

namespace tandem::eval {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

nlohmann::json usage_json(const std::map<std::string, api::Usage>& usage) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, u] : usage)
    j[name] = {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
               {"seconds", u.seconds}, {"cost", u.cost}};
  return j;
}

// JSON has no NaN or infinity: those are written as strings ("nan", "-inf").
nlohmann::json number_json(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(std::to_string(x)); }

nlohmann::json trace_json(const std::vector<api::TraceStep>& trace) {
  nlohmann::json j = nlohmann::json::array();
  for (const api::TraceStep& s : trace) {
    nlohmann::json step = {{"model", s.model}, {"decision", s.decision}};
    if (!s.signal.empty()) {
      step["signal"] = s.signal;
      step["value"] = number_json(s.value);
      step["threshold"] = number_json(s.threshold);
    }
    j.push_back(std::move(step));
  }
  return j;
}

api::Request greedy_request(std::string prompt, int max_tokens, std::vector<std::string> stop, uint64_t seed) {
  api::Request q;
  q.prompt = std::move(prompt);
  q.sampling.temperature = 0.0f;
  q.sampling.seed = seed;
  q.max_tokens = max_tokens;
  q.stop = std::move(stop);
  return q;
}

// The task's decoding: greedy, or sampling with only the filters it names.
api::Request task_request(const TaskSpec& t, std::string prompt, int max_tokens, uint64_t seed) {
  api::Request q = greedy_request(std::move(prompt), max_tokens, t.until, seed);
  if (!t.do_sample) return q;
  q.sampling.temperature = t.temperature;
  q.sampling.top_p = t.top_p;
  q.sampling.top_k = t.top_k;
  q.sampling.min_p = 0.0f;
  return q;
}

void fill_response(Record& r, const api::Response& resp) {
  r.output = resp.text;
  r.tokens = usage_json(resp.usage);
  r.cost = resp.cost();
  r.answered_by = resp.answered_by;
  r.trace = trace_json(resp.trace);
}

// Adds "params" and "flops" to every usage entry (of a usage map in JSON)
// whose model has a known parameter count.
void add_flops(nlohmann::json& usage, const std::map<std::string, double>& parameters) {
  for (auto it = usage.begin(); it != usage.end(); ++it) {
    const auto p = parameters.find(it.key());
    if (p == parameters.end()) continue;
    nlohmann::json& u = it.value();
    const int64_t tokens = u.value("prompt_tokens", int64_t{0}) + u.value("completion_tokens", int64_t{0}) +
                           u.value("scored_tokens", int64_t{0});
    u["params"] = p->second;
    u["flops"] = flops_estimate(p->second, tokens);
  }
}

// Every stage of a cascade asked (RunOptions::probe): each stage's answer,
// graded, into r.stages; the cascade's own response at its thresholds returned.
api::Response probe_stages(const compose::Cascade& c, const api::Request& q, const PreparedTask& t, const Example& e,
                           const RunOptions& o, Record& r) {
  std::vector<compose::StageAnswer> stages = c.probe(q);
  const std::string gold = gold_answer(e);
  r.stages = nlohmann::json::array();
  for (size_t i = 0; i < stages.size(); ++i) {
    const api::Response& a = stages[i].answer;
    const std::optional<std::string> extracted = extract_answer(t.spec, a.text);
    nlohmann::json j = {{"stage", stages[i].stage},
                        {"output", a.text},
                        {"extracted", extracted ? nlohmann::json(*extracted) : nlohmann::json(nullptr)},
                        {"correct", extracted && answers_equal(*extracted, gold) ? 1 : 0},
                        {"tokens", usage_json(a.usage)},
                        {"cost", a.cost()},
                        {"latency_ms", a.latency_ms}};
    add_flops(j["tokens"], o.parameters);
    if (i + 1 < stages.size()) {
      j["signal"] = stages[i].signal;
      j["value"] = number_json(stages[i].value);
      j["threshold"] = number_json(c.rule_for(i).threshold());
    }
    r.stages.push_back(std::move(j));
  }
  return c.resolve(q, std::move(stages));
}

void run_generate(const PreparedTask& t, const std::string& prompt, const Example& e, const api::Model& m,
                  const RunOptions& o, Record& r) {
  const int64_t context = m.capabilities().context;
  const GenerationFit fit = fit_generation(prompt, t.spec.max_gen_toks, context, o.truncate);
  if (fit.truncated)
    r.note = "prompt left-truncated from " + std::to_string(fit.tokens_before) + " to " +
             std::to_string(fit.tokens_after) + " tokens (context " + std::to_string(context) + " - max_gen_toks " +
             std::to_string(fit.max_tokens) + ")";
  const api::Request q = task_request(t.spec, fit.prompt, fit.max_tokens, o.seed);
  const auto* cascade = o.probe ? dynamic_cast<const compose::Cascade*>(&m) : nullptr;
  const api::Response resp = cascade ? probe_stages(*cascade, q, t, e, o, r) : m.complete(q);
  fill_response(r, resp);
  r.extracted = extract_answer(t.spec, resp.text);
  r.gold = gold_answer(e);
  r.correct = r.extracted && answers_equal(*r.extracted, r.gold) ? 1 : 0;
  r.metrics = {{"exact_match", *r.correct}};
}

// score() reports no usage: the record counts the scored tokens and the wall
// time, priced per second by options.price.
void scored_usage(Record& r, const api::Model& m, int64_t tokens, double seconds, const RunOptions& o) {
  api::Usage u;
  u.seconds = seconds;
  u.cost = o.price.cost(u);
  r.tokens = {{m.name(), {{"prompt_tokens", 0}, {"completion_tokens", 0}, {"scored_tokens", tokens},
                          {"seconds", seconds}, {"cost", u.cost}}}};
  r.cost = u.cost;
  r.answered_by = m.name();
  r.trace = nlohmann::json::array({{{"model", m.name()}, {"decision", "score"}}});
}

void run_choice(const PreparedTask& t, const std::string& prompt, const Example& e, const api::Model& m,
                const RunOptions& o, Record& r) {
  r.gold = std::string(1, static_cast<char>('A' + e.gold));
  if (!m.capabilities().scoring) {
    const std::string p = prompt.substr(0, prompt.size() - e.text.size()) + letter_prompt(e);
    const api::Response resp = m.complete(greedy_request(p, 8, {"\n"}, o.seed));
    fill_response(r, resp);
    const std::optional<int> letter = extract_letter(resp.text, static_cast<int>(e.choices.size()));
    if (letter) r.extracted = std::string(1, static_cast<char>('A' + *letter));
    r.correct = letter && *letter == e.gold ? 1 : 0;
    r.metrics = {{"acc", *r.correct}, {"acc_norm", *r.correct}};
    r.note = "letter fallback: the model cannot score";
    return;
  }
  const Clock::time_point start = Clock::now();
  std::vector<double> lls;
  int64_t tokens = 0;
  for (const std::string& c : e.choices) {
    const api::Score s = m.score(prompt, t.spec.target_delimiter + c);
    lls.push_back(s.sum_logprob);
    tokens += static_cast<int64_t>(s.token_logprobs.size());
  }
  scored_usage(r, m, tokens, seconds_since(start), o);
  const ChoicePick pick = pick_choice(lls, e.choices);
  r.output = e.choices[static_cast<size_t>(pick.acc)];
  r.extracted = std::string(1, static_cast<char>('A' + pick.acc));
  r.correct = pick.acc == e.gold ? 1 : 0;
  r.metrics = {{"acc", *r.correct}, {"acc_norm", pick.acc_norm == e.gold ? 1 : 0}, {"loglikelihoods", lls}};
}

int64_t count_words(const std::string& text) {
  int64_t n = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

void run_rolling(const std::string& prompt, const api::Model& m, const RunOptions& o, Record& r) {
  const Clock::time_point start = Clock::now();
  double ll = 0.0;
  int64_t tokens = 0;
  for (const std::string& w : rolling_windows(prompt, m.capabilities().context)) {
    const api::Score s = m.score("", w);
    ll += s.sum_logprob;
    tokens += static_cast<int64_t>(s.token_logprobs.size());
  }
  scored_usage(r, m, tokens, seconds_since(start), o);
  r.metrics = {{"loglikelihood", ll}, {"tokens", tokens}, {"bytes", static_cast<int64_t>(prompt.size())},
               {"words", count_words(prompt)}};
}

// An example the model could not take (ContextError): stored, counted wrong.
void record_failure(Record& r, const Example& e, OutputType type, const std::string& why) {
  r.output.clear();
  r.extracted.reset();
  r.tokens = nlohmann::json::object();
  r.cost = 0.0;
  r.answered_by.clear();
  r.trace = nlohmann::json::array();
  r.stages = nlohmann::json::array();
  r.correct = 0;
  if (type == OutputType::kGenerateUntil) {
    r.gold = gold_answer(e);
    r.metrics = {{"exact_match", 0}};
  } else {
    r.gold = std::string(1, static_cast<char>('A' + e.gold));
    r.metrics = {{"acc", 0}, {"acc_norm", 0}};
  }
  r.note = "failed: " + why;
}

}  // namespace

double flops_estimate(double params, int64_t tokens) { return 2.0 * params * static_cast<double>(tokens); }

std::string hash_hex(const std::string& text) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(text)));
  return buf;
}

std::vector<std::string> rolling_windows(const std::string& text, int64_t context) {
  if (context <= 1 || static_cast<int64_t>(text.size()) <= context - 1) return {text};
  const size_t most = static_cast<size_t>(context - 1);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.size(), pos + most);
    if (end < text.size()) {
      // Cut after the last whitespace in the window, else (one long word) at a
      // UTF-8 character boundary.
      size_t cut = text.find_last_of(" \n\t", end - 1);
      if (cut != std::string::npos && cut >= pos) end = cut + 1;
      else
        while (end > pos + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    }
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

PreparedTask prepare_task(const TaskSpec& spec, const SelectOptions& select) {
  PreparedTask t;
  t.spec = spec;
  std::vector<Example> all = load_examples(spec);
  t.n_dataset = static_cast<int64_t>(all.size());
  if (spec.num_fewshot > 0) t.fewshot = load_examples(spec, *spec.fewshot);
  if (select.tiny) {
    std::vector<std::string> ids;
    std::vector<int64_t> strata;
    for (const Example& e : all) {
      ids.push_back(e.id);
      strata.push_back(e.gold);
    }
    std::vector<Example> kept;
    for (const size_t i : stratified_subset(ids, strata, kTinySubsetSize)) kept.push_back(std::move(all[i]));
    all = std::move(kept);
  }
  const size_t begin = std::min(all.size(), static_cast<size_t>(std::max<int64_t>(0, select.offset)));
  size_t end = all.size();
  if (select.limit >= 0) end = std::min(end, begin + static_cast<size_t>(select.limit));
  t.examples.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(begin)),
                    std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end)));
  return t;
}

void check_probe(const PreparedTask& t, const api::Model& m, const RunOptions& o) {
  if (!o.probe) return;
  if (dynamic_cast<const compose::Cascade*>(&m) == nullptr)
    throw Error("--probe asks every stage of a cascade: '" + m.name() + "' is not a cascade");
  if (t.spec.output_type != OutputType::kGenerateUntil)
    throw Error("--probe: task " + t.spec.name + " is not a generate_until task (a cascade answers choices by letter)");
}

Record evaluate_example(const PreparedTask& t, const Example& e, const api::Model& m, const RunOptions& o) {
  check_probe(t, m, o);
  Record r;
  r.task = t.spec.name;
  r.model = m.name();
  r.example_id = e.id;
  r.example_index = e.index;
  const std::string prompt = build_prompt(t.spec, e, t.fewshot, o.seed);
  r.prompt_hash = hash_hex(prompt);
  const Clock::time_point start = Clock::now();
  try {
    switch (t.spec.output_type) {
      case OutputType::kGenerateUntil: run_generate(t, prompt, e, m, o, r); break;
      case OutputType::kMultipleChoice: run_choice(t, prompt, e, m, o, r); break;
      case OutputType::kLoglikelihoodRolling: run_rolling(prompt, m, o, r); break;
    }
  } catch (const ContextError& err) {
    if (t.spec.output_type == OutputType::kLoglikelihoodRolling) throw;  // no wrong answer to count
    record_failure(r, e, t.spec.output_type, err.what());
  }
  add_flops(r.tokens, o.parameters);
  r.latency_ms = seconds_since(start) * 1000.0;
  return r;
}

RunSummary run_task(const PreparedTask& t, const api::Model& m, RecordStore& store, const RunOptions& o,
                    const ProgressFn& progress) {
  check_probe(t, m, o);
  RunSummary summary;
  summary.letter_fallback = t.spec.output_type == OutputType::kMultipleChoice && !m.capabilities().scoring;
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr fatal;
  const Clock::time_point start = Clock::now();
  auto report = [&] {  // under mu
    if (progress)
      progress({&t.spec.name, &m.name(), summary.evaluated, summary.skipped, summary.failed, t.examples.size(),
                seconds_since(start)});
  };
  auto worker = [&] {
    for (size_t i; !stop && (i = next++) < t.examples.size();) {
      const Example& e = t.examples[i];
      try {
        if (const std::optional<Record> old = store.find(t.spec.name, m.name(), e.id)) {
          if (old->prompt_hash != hash_hex(build_prompt(t.spec, e, t.fewshot, o.seed)))
            throw Error("the records of " + t.spec.name + "/" + m.name() + " example " + e.id +
                        " were made with another prompt (the task, its data or --seed changed): use another --out");
          std::lock_guard lock(mu);
          ++summary.skipped;
          report();
          continue;
        }
        std::optional<Record> r;
        try {
          r = evaluate_example(t, e, m, o);
        } catch (const Error& err) {
          std::lock_guard lock(mu);
          if (summary.failed++ == 0) summary.first_error = "example " + e.id + ": " + err.what();
          report();
          continue;
        }
        store.put(*r);
        std::lock_guard lock(mu);
        ++summary.evaluated;
        report();
      } catch (...) {
        std::lock_guard lock(mu);
        if (!fatal) fatal = std::current_exception();
        stop = true;
      }
    }
  };
  const int n_threads = std::max(1, std::min<int>(o.concurrency, static_cast<int>(t.examples.size())));
  std::vector<std::thread> threads;
  for (int k = 1; k < n_threads; ++k) threads.emplace_back(worker);
  worker();
  for (std::thread& th : threads) th.join();
  if (fatal) std::rethrow_exception(fatal);
  return summary;
}

}  // namespace tandem::eval
