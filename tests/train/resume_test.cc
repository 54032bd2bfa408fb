// Resuming checks the run's settings against the checkpoint's: every option
// that changes the weights, the training data and the caller's inputs are
// recorded, a resume with another value fails naming the option and both
// values, and an override lets the named change (and only it) through. The
// expected messages and values are written out by hand.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "model/transformer.h"
#include "tiny_run.h"
#include "train/checkpoint.h"
#include "train/export.h"
#include "train/fingerprint.h"
#include "train/run_settings.h"
#include "train/trainer.h"
#include "util/error.h"

namespace tandem::train {
namespace {

using tiny::tiny_data;
using tiny::tiny_encoder;
using tiny::tiny_options;
using tiny::TinyVocab;

class Resume : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tandem_resume_check_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    ck_ = (dir_ / "run.ckpt").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Two steps of `o`, checkpointed to ck_.
  void checkpoint_of(TrainOptions o, const std::shared_ptr<Transformer>& teacher = nullptr) {
    o.checkpoint_path = ck_;
    Trainer t(o, tiny_data(enc_), nullptr);
    t.set_teacher(teacher);
    t.run(2);
  }
  // The error of resuming ck_ with `o` ("" when it resumes; it then checks
  // that the run continues from step 2, without touching ck_).
  std::string resume_error(TrainOptions o, const std::shared_ptr<Transformer>& teacher = nullptr,
                           const std::string& sentence = "the cat sat on the mat. the dog sat on the log.") {
    o.checkpoint_path.clear();
    try {
      Trainer t(o, tiny_data(enc_, sentence), nullptr);
      t.set_teacher(teacher);
      t.resume(ck_);
      EXPECT_EQ(t.step(), 2);
      t.run(1);
      EXPECT_EQ(t.step(), 3);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  // A model of the tiny shape as a GGUF the engine loads, for distillation.
  std::shared_ptr<Transformer> tiny_teacher() {
    Trainer t(tiny_options(""), tiny_data(enc_), nullptr);
    SpmVocab vocab = enc_.vocab;
    while (vocab.size() < 300) {
      vocab.tokens.push_back("<pad" + std::to_string(vocab.size()) + ">");
      vocab.scores.push_back(-1e9f);
      vocab.types.push_back(5);
    }
    const std::string path = (dir_ / "teacher.gguf").string();
    export_gguf(t.model(), vocab, "teacher", path);
    LoadOptions one_thread;
    one_thread.n_threads = 1;
    return std::shared_ptr<Transformer>(Transformer::load(path, one_thread));
  }

  TinyVocab enc_ = tiny_encoder();
  std::filesystem::path dir_;
  std::string ck_;
};

std::string differs(const std::string& label, const std::string& before, const std::string& after) {
  return label + " differs from the checkpoint (checkpoint " + before + ", now " + after + ")";
}
std::string use_override(const std::string& name) { return "; use --override " + name + " to change it deliberately"; }

TEST(RunSettings, RecordsEveryOptionThatChangesTheWeights) {
  std::set<std::string> names;
  for (const auto& [name, value] : run_settings(tiny_options(""), 0, false)) names.insert(name);
  const std::set<std::string> expected = {
      "vocab-size", "dim",   "layers", "heads",   "kv-heads", "ff",    "tied",     "lora-rank",  "lora-targets",
      "ctx",        "rope-base", "norm-eps", "batch", "seq", "accum", "steps",    "lr",         "min-lr",
      "warmup",     "wd",    "beta1",  "beta2",   "adam-eps", "clip",  "seed",     "lora-alpha", "kd-alpha",
      "kd-temp",    "kd-reverse", "data"};
  EXPECT_EQ(names, expected);
}

struct Change {
  const char* name;
  const char* label;
  std::function<void(TrainOptions&)> apply;
  const char* before;
  const char* after;
};

TEST_F(Resume, EachChangedOptionIsRefusedByNameUnlessOverridden) {
  checkpoint_of(tiny_options(""));
  const std::vector<Change> changes = {
      {"batch", "--batch", [](TrainOptions& o) { o.batch = 2; }, "4", "2"},
      {"seq", "--seq", [](TrainOptions& o) { o.seq_len = 8; }, "16", "8"},
      {"accum", "--accum", [](TrainOptions& o) { o.accum = 1; }, "2", "1"},
      {"steps", "--steps", [](TrainOptions& o) { o.steps = 20; }, "12", "20"},
      {"lr", "--lr", [](TrainOptions& o) { o.schedule.lr = 1e-3; }, "0.003", "0.001"},
      {"min-lr", "--min-lr", [](TrainOptions& o) { o.schedule.min_lr = 1e-4; }, "0.0003", "0.0001"},
      {"warmup", "--warmup", [](TrainOptions& o) { o.schedule.warmup_steps = 5; }, "3", "5"},
      {"wd", "--wd", [](TrainOptions& o) { o.adam.weight_decay = 0; }, "0.1", "0"},
      {"beta1", "AdamW beta1", [](TrainOptions& o) { o.adam.beta1 = 0.8; }, "0.9", "0.8"},
      {"beta2", "AdamW beta2", [](TrainOptions& o) { o.adam.beta2 = 0.99; }, "0.95", "0.99"},
      {"adam-eps", "AdamW eps", [](TrainOptions& o) { o.adam.eps = 1e-6; }, "1e-08", "1e-06"},
      {"clip", "--clip", [](TrainOptions& o) { o.clip = 0.5; }, "1", "0.5"},
      {"seed", "--seed", [](TrainOptions& o) { o.seed = 8; }, "7", "8"},
      {"ctx", "--ctx", [](TrainOptions& o) { o.shape.n_ctx = 32; }, "16", "32"},
      {"rope-base", "the RoPE base", [](TrainOptions& o) { o.shape.rope_base = 500000; }, "10000", "500000"},
      {"norm-eps", "the RMSNorm epsilon", [](TrainOptions& o) { o.shape.norm_eps = 1e-6; }, "1e-05", "1e-06"},
  };
  for (const Change& c : changes) {
    SCOPED_TRACE(c.name);
    TrainOptions o = tiny_options("");
    c.apply(o);
    const std::string err = resume_error(o);
    EXPECT_NE(err.find(ck_ + ": " + differs(c.label, c.before, c.after) + use_override(c.name)), std::string::npos)
        << err;
    o.overrides = {c.name};
    EXPECT_EQ(resume_error(o), "");
    // Another option's override does not let this change through.
    o.overrides = {std::string(c.name) == "seed" ? "batch" : "seed"};
    EXPECT_NE(resume_error(o), "");
    o.overrides = {"all"};
    EXPECT_EQ(resume_error(o), "");
  }
  EXPECT_EQ(resume_error(tiny_options("")), "");  // unchanged
}

TEST_F(Resume, ChangedTrainingDataIsDetected) {
  checkpoint_of(tiny_options(""));
  const std::string other = "the dog sat on the mat. the cat sat on the log.";
  const std::string err = resume_error(tiny_options(""), nullptr, other);
  EXPECT_NE(err.find("the training data ("), std::string::npos) << err;
  EXPECT_NE(err.find(use_override("data")), std::string::npos) << err;
  TrainOptions o = tiny_options("");
  o.overrides = {"data"};
  EXPECT_EQ(resume_error(o, nullptr, other), "");
}

TEST_F(Resume, TheModelShapeCannotBeOverridden) {
  checkpoint_of(tiny_options(""));
  TrainOptions o = tiny_options("");
  o.shape.n_embd = 32;
  const std::string shape_err = differs("--dim", "16", "32") + "; the model's shape cannot change on resume";
  EXPECT_NE(resume_error(o).find(shape_err), std::string::npos) << resume_error(o);
  o.overrides = {"all"};
  EXPECT_NE(resume_error(o).find(shape_err), std::string::npos);
  o.overrides = {"dim"};
  EXPECT_NE(resume_error(o).find("--override dim: --dim is part of the model's shape"), std::string::npos);
}

TEST_F(Resume, UnknownOverrideNamesAreRefusedUpFront) {
  TrainOptions o = tiny_options("");
  o.overrides = {"batchsize"};
  try {
    Trainer t(o, tiny_data(enc_), nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--override batchsize: no such setting"), std::string::npos) << msg;
    EXPECT_NE(msg.find(" batch"), std::string::npos) << msg;  // lists the valid names
  }
  o.overrides = {"init"};  // an input's name is valid only where the caller records that input
  EXPECT_THROW(Trainer(o, tiny_data(enc_), nullptr), Error);
  o.inputs = {{"init", "1234"}};
  EXPECT_NO_THROW(Trainer(o, tiny_data(enc_), nullptr));
}

TEST_F(Resume, InputsAreComparedLikeOptions) {
  TrainOptions o = tiny_options("");
  o.inputs = {{"init", "aaaa"}};
  checkpoint_of(o);
  o.inputs = {{"init", "bbbb"}};
  EXPECT_NE(resume_error(o).find(differs("--init", "aaaa", "bbbb") + use_override("init")), std::string::npos);
  o.inputs.clear();
  EXPECT_NE(resume_error(o).find(differs("--init", "aaaa", "not recorded")), std::string::npos);
  o.inputs = {{"init", "bbbb"}};
  o.overrides = {"init"};
  EXPECT_EQ(resume_error(o), "");
}

TEST_F(Resume, LoraSettingsAreChecked) {
  TrainOptions base = tiny_options("");
  base.lora.rank = 4;
  base.lora.alpha = 8;
  checkpoint_of(base);
  TrainOptions o = base;
  o.lora.alpha = 16;
  EXPECT_NE(resume_error(o).find(differs("--lora-alpha", "8", "16") + use_override("lora-alpha")), std::string::npos);
  o.overrides = {"lora-alpha"};
  EXPECT_EQ(resume_error(o), "");
  o = base;
  o.lora.rank = 8;
  EXPECT_NE(resume_error(o).find(differs("--lora-rank", "4", "8")), std::string::npos);
  o = base;
  o.lora.targets = {"attn_q", "attn_v"};
  EXPECT_NE(resume_error(o).find(differs("--lora-targets", "attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down",
                                         "attn_q,attn_v")),
            std::string::npos);
  o = base;
  o.lora.rank = 0;  // full training from a LoRA run's checkpoint
  EXPECT_NE(resume_error(o).find(differs("--lora-rank", "4", "0")), std::string::npos);
}

TEST_F(Resume, DistillationSettingsAreChecked) {
  auto teacher = tiny_teacher();
  checkpoint_of(tiny_options(""), teacher);
  TrainOptions o = tiny_options("");
  o.kd_alpha = 0.7;
  EXPECT_NE(resume_error(o, teacher).find(differs("--kd-alpha", "0.5", "0.7") + use_override("kd-alpha")),
            std::string::npos);
  o.overrides = {"kd-alpha"};
  EXPECT_EQ(resume_error(o, teacher), "");
  o = tiny_options("");
  o.kd_tau = 2;
  EXPECT_NE(resume_error(o, teacher).find(differs("--kd-temp", "1", "2")), std::string::npos);
  o = tiny_options("");
  o.kd_direction = KlDirection::kReverse;
  EXPECT_NE(resume_error(o, teacher).find(differs("--kd-reverse", "no", "yes")), std::string::npos);
  // Without the teacher the distillation settings do not apply.
  EXPECT_NE(resume_error(tiny_options("")).find(differs("--kd-alpha", "0.5", "-")), std::string::npos);
  EXPECT_EQ(resume_error(tiny_options(""), teacher), "");
}

// A version 1 checkpoint (before settings were recorded): the same file with
// the settings taken out of its header.
void downgrade_to_version_1(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  uint64_t n = 0;
  std::memcpy(&n, bytes.data() + 8, 8);
  auto header = nlohmann::json::parse(bytes.substr(16, n));
  ASSERT_TRUE(header.contains("settings"));
  header.erase("settings");
  const std::string h = header.dump();
  const uint32_t version = 1;
  const uint64_t hn = h.size();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), 4);
  out.write(reinterpret_cast<const char*>(&version), 4);
  out.write(reinterpret_cast<const char*>(&hn), 8);
  out << h << bytes.substr(16 + n);
}

TEST_F(Resume, AVersion1CheckpointNeedsOverrideAllAndThenContinuesBitForBit) {
  Trainer full(tiny_options(""), tiny_data(enc_), nullptr);
  full.run();
  checkpoint_of(tiny_options(""));
  downgrade_to_version_1(ck_);
  EXPECT_EQ(read_checkpoint(ck_).version, 1u);
  const std::string err = resume_error(tiny_options(""));
  EXPECT_NE(err.find(ck_ + ": this checkpoint (format version 1) does not record the training options"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("--override all"), std::string::npos) << err;
  TrainOptions o = tiny_options("");
  o.overrides = {"all"};
  o.shape.n_embd = 32;  // the shape is still checked
  EXPECT_NE(resume_error(o).find(differs("--dim", "16", "32")), std::string::npos);
  o.shape.n_embd = 16;
  Trainer t(o, tiny_data(enc_), nullptr);
  t.resume(ck_);
  t.run();
  EXPECT_TRUE(t.model().params == full.model().params);
}

TEST(Fingerprint, IsFnv1aOnShortInputs) {
  // The FNV reference test vectors (fnv1a64 of "", "a", "foobar").
  EXPECT_EQ(Fingerprint().value(), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fingerprint().add_bytes("a", 1).value(), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fingerprint().add_bytes("foobar", 6).value(), 0x85944171f73967e8ull);
  EXPECT_EQ(fingerprint_hex(0xaf63dc4c8601ec8cull), "af63dc4c8601ec8c");
}

TEST(Fingerprint, OfAFileChangesWithAnyByte) {
  const auto path = (std::filesystem::temp_directory_path() / ("tandem_fp_" + std::to_string(::getpid()))).string();
  std::string text(1000, 'x');
  std::ofstream(path, std::ios::binary) << text;
  const uint64_t a = file_fingerprint(path);
  EXPECT_EQ(file_fingerprint(path), a);
  for (size_t i : {0u, 7u, 8u, 500u, 999u}) {
    std::string t = text;
    t[i] = 'y';
    std::ofstream(path, std::ios::binary | std::ios::trunc) << t;
    EXPECT_NE(file_fingerprint(path), a) << i;
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text << 'x';  // longer
  EXPECT_NE(file_fingerprint(path), a);
  std::filesystem::remove(path);
  EXPECT_THROW(file_fingerprint(path), Error);
}

TEST(DataMixFingerprint, FollowsTokensScoringAndWeights) {
  TinyVocab enc = tiny_encoder();
  const uint64_t a = tiny_data(enc).fingerprint();
  EXPECT_EQ(tiny_data(enc).fingerprint(), a);
  EXPECT_NE(tiny_data(enc, "the cat sat on the mat. the dog sat on the mat.").fingerprint(), a);
  // Same tokens, another prompt/completion split: other targets are scored.
  PairExample ex = encode_pair(*enc.tok, *enc.cont, "1 + 2 =", " 3");
  PairExample moved = ex;
  moved.n_prompt -= 1;
  EXPECT_NE(PairSource({ex}, "p", 2).fingerprint(), PairSource({moved}, "p", 2).fingerprint());
  EXPECT_EQ(PairSource({ex}, "p", 2).fingerprint(), PairSource({ex}, "another name", 2).fingerprint());
  DataMix w1, w2;
  w1.add(std::make_shared<PairSource>(std::vector<PairExample>{ex}, "p", 2), 1.0);
  w2.add(std::make_shared<PairSource>(std::vector<PairExample>{ex}, "p", 2), 2.0);
  EXPECT_NE(w1.fingerprint(), w2.fingerprint());
}

}  // namespace
}  // namespace tandem::train
