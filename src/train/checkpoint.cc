#include "train/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace tandem::train {
namespace {

constexpr char kMagic[4] = {'T', 'D', 'C', 'K'};
constexpr uint32_t kVersion = 2;  // 2: + settings

nlohmann::json shape_json(const ModelShape& s) {
  return {{"n_vocab", s.n_vocab}, {"n_embd", s.n_embd},         {"n_layer", s.n_layer},
          {"n_head", s.n_head},   {"n_head_kv", s.n_head_kv},   {"n_ff", s.n_ff},
          {"n_ctx", s.n_ctx},     {"rope_base", s.rope_base},   {"norm_eps", s.norm_eps},
          {"tied_output", s.tied_output}};
}

ModelShape shape_from(const nlohmann::json& j) {
  ModelShape s;
  s.n_vocab = j.at("n_vocab");
  s.n_embd = j.at("n_embd");
  s.n_layer = j.at("n_layer");
  s.n_head = j.at("n_head");
  s.n_head_kv = j.at("n_head_kv");
  s.n_ff = j.at("n_ff");
  s.n_ctx = j.at("n_ctx");
  s.rope_base = j.at("rope_base");
  s.norm_eps = j.at("norm_eps");
  s.tied_output = j.at("tied_output");
  return s;
}

}  // namespace

void write_checkpoint(const Checkpoint& ck, const std::string& path) {
  nlohmann::json h;
  h["shape"] = shape_json(ck.shape);
  h["step"] = ck.step;
  h["adam_t"] = ck.adam_t;
  h["data_rng"] = ck.data_rng;
  h["tokens_seen"] = ck.tokens_seen;
  h["elapsed_s"] = ck.elapsed_s;
  h["train_loss"] = ck.train_loss;
  h["val_loss"] = ck.val_loss;
  h["n_params"] = ck.params.size();
  h["settings"] = ck.settings;
  const std::string header = h.dump();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot write the checkpoint (does the folder exist?)");
    out.write(kMagic, 4);
    out.write(reinterpret_cast<const char*>(&kVersion), sizeof kVersion);
    const uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), sizeof n);
    out.write(header.data(), static_cast<std::streamsize>(n));
    for (const auto* a : {&ck.params, &ck.m, &ck.v}) {
      out.write(reinterpret_cast<const char*>(a->data()), static_cast<std::streamsize>(a->size() * sizeof(float)));
    }
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error(path + ": writing the checkpoint failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot move the checkpoint into place");
  }
}

Checkpoint read_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the checkpoint");
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  char magic[4];
  uint32_t version = 0;
  uint64_t n = 0;
  in.read(magic, 4);
  in.read(reinterpret_cast<char*>(&version), sizeof version);
  in.read(reinterpret_cast<char*>(&n), sizeof n);
  if (!in || std::memcmp(magic, kMagic, 4) != 0) throw Error(path + ": not a tandem checkpoint");
  if (version < 1 || version > kVersion) {
    throw Error(path + ": checkpoint version " + std::to_string(version) + " is not supported (this tandem reads 1 to " +
                std::to_string(kVersion) + ")");
  }
  if (n > size - 16) throw Error(path + ": truncated checkpoint header");
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  Checkpoint ck;
  ck.version = version;
  try {
    auto h = nlohmann::json::parse(header);
    ck.shape = shape_from(h.at("shape"));
    ck.step = h.at("step");
    ck.adam_t = h.at("adam_t");
    ck.data_rng = h.at("data_rng");
    ck.tokens_seen = h.at("tokens_seen");
    ck.elapsed_s = h.at("elapsed_s");
    ck.train_loss = h.at("train_loss").get<std::vector<std::pair<int64_t, float>>>();
    ck.val_loss = h.at("val_loss").get<std::vector<std::pair<int64_t, float>>>();
    if (version >= 2) ck.settings = h.at("settings").get<std::map<std::string, std::string>>();
    const uint64_t np = h.at("n_params");
    if (np * 3 * sizeof(float) != size - 16 - n) throw Error(path + ": checkpoint data size does not match its header");
    for (auto* a : {&ck.params, &ck.m, &ck.v}) {
      a->resize(np);
      in.read(reinterpret_cast<char*>(a->data()), static_cast<std::streamsize>(np * sizeof(float)));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupt checkpoint header (" + std::string(e.what()) + ")");
  }
  if (!in) throw Error(path + ": truncated checkpoint");
  return ck;
}

}  // namespace tandem::train
