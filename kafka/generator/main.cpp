// kafka_codegen: generates nodus::kafka's message structs from Apache Kafka's JSON message
// definitions, at build time (kafka/CMakeLists.txt runs it).
//
//   kafka_codegen SCHEMA_DIR OUT_DIR API...
//
// reads every *.json in SCHEMA_DIR (for the table of API keys), and for each API named (e.g.
// Metadata) <API>Request.json and <API>Response.json; writes OUT_DIR/include/nodus/kafka/
// generated/<api>.hpp and messages.hpp, and OUT_DIR/src/<api>.cpp and messages.cpp. A file is
// rewritten only when its text changes, so a rerun does not recompile what is the same.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "emit.hpp"

namespace fs = std::filesystem;
using namespace nodus::kafka::codegen;

namespace {

bool write_if_changed(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream old;
    old << in.rdbuf();
    if (in && old.str() == text) return true;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

int fail(const std::string& what) {
  std::cerr << "kafka_codegen: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return fail("usage: kafka_codegen SCHEMA_DIR OUT_DIR API...");
  const fs::path schema_dir = argv[1], out_dir = argv[2];
  std::vector<message> all;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(schema_dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    auto m = load_message(path.string());
    if (!m) return fail(m.error().message());
    all.push_back(std::move(m).value());
  }
  std::vector<api_messages> full;
  for (int i = 3; i < argc; ++i) {
    api_messages api{argv[i], {}, {}};
    auto find = [&](const std::string& name) -> const message* {
      for (const auto& m : all)
        if (m.name == name) return &m;
      return nullptr;
    };
    const auto* request = find(api.name + "Request");
    const auto* response = find(api.name + "Response");
    if (!request || !response) return fail("no " + api.name + "Request.json or " + api.name + "Response.json");
    api.request = *request;
    api.response = *response;
    full.push_back(std::move(api));
  }
  const auto include_dir = out_dir / "include" / "nodus" / "kafka" / "generated";
  for (const auto& api : full) {
    auto header = emit_api_header(api);
    auto source = emit_api_source(api);
    if (!header) return fail(header.error().message());
    if (!source) return fail(source.error().message());
    if (!write_if_changed(include_dir / (snake_case(api.name) + ".hpp"), header.value()) ||
        !write_if_changed(out_dir / "src" / (snake_case(api.name) + ".cpp"), source.value()))
      return fail("cannot write into " + out_dir.string());
  }
  if (!write_if_changed(include_dir / "messages.hpp", emit_messages_header(full, all)) ||
      !write_if_changed(out_dir / "src" / "messages.cpp", emit_messages_source(full, all)))
    return fail("cannot write into " + out_dir.string());
  return 0;
}
