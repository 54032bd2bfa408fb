#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cli/commands.h"
#include "util/error.h"

namespace {

// Every failure is one line on stderr and status 1, the way scripts and tests
// expect (CLI11 alone prints a second "Run with --help" line and exits with
// its own codes, 105, 106, ...).
int fail(const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", line.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tandem: small and large language models working together"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tandem 0.1.0");
  tandem::cli::add_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end the parse with a "success" that prints through CLI11.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    // The subcommands given, outermost first: "index build: --threads: ...".
    std::string where;
    for (CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      where += (where.empty() ? "" : " ") + sub->get_name();
    }
    return fail((where.empty() ? "" : where + ": ") + e.what());
  } catch (const tandem::Error& e) {
    return fail(e.what());
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
