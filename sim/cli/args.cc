#include "sim/cli/args.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "sim/config/failure_spec.h"
#include "sim/config/overrides.h"
#include "sim/config/yaml_fields.h"

namespace collsim::cli {

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  return {};
}

std::string ParsedArgs::get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second.back();
  if (auto it = defaults_.find(name); it != defaults_.end()) return it->second;
  return "";
}

Expected<ParsedArgs> parse_args(const std::vector<OptionSpec>& specs, const std::vector<std::string>& args) {
  ParsedArgs out;
  for (const auto& s : specs)
    if (!s.default_value.empty()) out.defaults_[s.name] = s.default_value;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      out.positional_.push_back(arg);
      continue;
    }
    std::string name;
    std::optional<std::string> inline_value;
    const OptionSpec* spec = nullptr;
    if (arg.rfind("--", 0) == 0) {
      name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      for (const auto& s : specs)
        if (s.name == name) spec = &s;
    } else {
      name = arg.substr(1);
      for (const auto& s : specs)
        if (!s.short_name.empty() && s.short_name == name) spec = &s;
    }
    if (!spec) {
      std::vector<std::string_view> names;
      for (const auto& s : specs) names.push_back(s.name);
      std::string msg = fmt::format("unknown option '{}'", arg);
      if (auto near = config::closest_match(name, names)) msg += fmt::format(" (did you mean '--{}'?)", *near);
      return make_error(msg + "; see --help");
    }
    if (!spec->takes_value) {
      if (inline_value) return make_error(fmt::format("option '--{}' takes no value", spec->name));
      out.values_[spec->name].push_back("true");
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return make_error(fmt::format("option '{}' needs a value", arg));
    }
    // Options read once (all but the repeatable ones, ParsedArgs::all)
    // take one value: a second, different one would be silently dropped.
    auto& given = out.values_[spec->name];
    if (!given.empty() && !spec->repeatable && given.back() != value) {
      return make_error(
          fmt::format("option '--{}' given twice, '{}' then '{}': expected it once", spec->name, given.back(), value));
    }
    // --set and --set-workload: one value a key, as other options take one
    // value (a value without a key is left to the override's own error).
    if (spec->name == "set" || spec->name == "set-workload") {
      if (const std::string* earlier = config::conflicting_override(given, value)) {
        return make_error(fmt::format("option '--{}' given twice for {}, '{}' then '{}': expected each key once",
                                      spec->name, config::override_key(value), *earlier, value));
      }
    }
    given.push_back(std::move(value));
  }
  return out;
}

namespace {

// What an option's value is, for --help: FILE, SIZE, N... (VALUE otherwise).
std::string placeholder(const std::string& name) {
  static const std::map<std::string, std::string> kinds{{"topology", "FILE"},
                                                        {"workload", "FILE"},
                                                        {"json", "FILE"},
                                                        {"html", "FILE"},
                                                        {"trace", "FILE"},
                                                        {"validation", "FILE"},
                                                        {"output_file", "FILE"},
                                                        {"file", "FILE"},
                                                        {"nccl-tests", "LOG"},
                                                        {"metric", "time|busbw"},
                                                        {"dot", "FILE"},
                                                        {"expand", "FILE"},
                                                        {"svg", "FILE"},
                                                        {"out", "DIR"},
                                                        {"minbytes", "SIZE"},
                                                        {"maxbytes", "SIZE"},
                                                        {"stepbytes", "SIZE"},
                                                        {"stepfactor", "X"},
                                                        {"ranks", "N"},
                                                        {"placement", "SPEC"},
                                                        {"root", "N"},
                                                        {"jobs", "N"},
                                                        {"iters", "N"},
                                                        {"warmup_iters", "N"},
                                                        {"trace-workers", "N"},
                                                        {"trace-links", "N"},
                                                        {"auto-max-work", "N"},
                                                        {"simgrid-aggregate-above", "N"},
                                                        {"nccl", "VERSION"},
                                                        {"set", "KEY=VALUE"},
                                                        {"fail", "SELECTOR"},
                                                        {"degrade", "SELECTOR"},
                                                        {"set-workload", "KEY=VALUE"},
                                                        {"op", "OP"},
                                                        {"redop", "OP"},
                                                        {"algo", "ALGO"},
                                                        {"proto", "PROTO"},
                                                        {"backend", "NAME"},
                                                        {"datatype", "TYPE"},
                                                        {"shard", "I/N"},
                                                        {"what-if", "on|off"},
                                                        {"memory-check", "on|off"}};
  const auto it = kinds.find(name);
  return it == kinds.end() ? "VALUE" : it->second;
}

// `text` as lines of at most `width` characters, broken at spaces; a word
// longer than a line stands alone.
std::vector<std::string> wrapped(const std::string& text, std::size_t width) {
  std::vector<std::string> lines{""};
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    if (!lines.back().empty()) lines.back() += ' ';
    lines.back() += word;
    start = end + 1;
  }
  return lines;
}

}  // namespace

std::string format_options_help(const std::vector<OptionSpec>& specs,
                                const std::map<std::string, std::string>& value_names) {
  // Two columns within 80: the option (up to 30 wide, alone on its line when
  // longer) and its help, wrapped and indented.
  constexpr std::size_t kLeft = 30, kWidth = 80;
  std::string out, grouped;
  for (const auto& s : specs) {
    if (s.grouped) {
      grouped += fmt::format("{}-{}", grouped.empty() ? "" : " ", s.short_name);
      continue;
    }
    std::string left = s.short_name.empty() ? "      " : fmt::format("  -{}, ", s.short_name);
    const auto named = value_names.find(s.name);
    const std::string value = named != value_names.end() ? named->second : placeholder(s.name);
    left += fmt::format("--{}{}{}", s.name, s.takes_value ? " " : "", s.takes_value ? value : "");
    std::string help = s.help;
    if (s.repeatable) help += " (repeatable)";
    if (!s.default_value.empty()) help += fmt::format(" (default: {})", s.default_value);
    const auto lines = wrapped(help, kWidth - kLeft - 1);
    if (left.size() >= kLeft) {
      out += left + "\n";
      left.clear();
    }
    for (const auto& line : lines) {
      out += fmt::format("{:<{}} {}\n", left, kLeft, line);
      left.clear();
    }
  }
  if (!grouped.empty()) {
    out += "  nccl-tests' launch options, accepted and ignored:\n";
    for (const auto& line : wrapped(grouped, kWidth - 4)) out += "    " + line + "\n";
  }
  return out;
}

namespace {

Expected<double> finite_number_option(const ParsedArgs& args, const std::string& name, bool zero_allowed) {
  const std::string text = args.get(name);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(zero_allowed ? v >= 0 : v > 0) || !std::isfinite(v)) {
    return make_error(
        fmt::format("--{} must be a finite number {} 0, found '{}'", name, zero_allowed ? ">=" : ">", text));
  }
  return v;
}

}  // namespace

Expected<double> positive_number_option(const ParsedArgs& args, const std::string& name) {
  return finite_number_option(args, name, false);
}

Expected<double> nonnegative_number_option(const ParsedArgs& args, const std::string& name) {
  return finite_number_option(args, name, true);
}

Expected<long> whole_number_option(const ParsedArgs& args, const std::string& name, long lo, long hi) {
  const std::string text = args.get(name);
  char* e = nullptr;
  const long v = std::strtol(text.c_str(), &e, 10);
  if (e == text.c_str() || *e != '\0' || v < lo || v > hi)
    return make_error(fmt::format("--{} must be a whole number from {} to {}, found '{}'", name, lo, hi, text));
  return v;
}

Status need_topology_and_workload(const ParsedArgs& args) {
  if (!args.positional().empty()) return make_error(fmt::format("unexpected argument '{}'", args.positional()[0]));
  if (!args.has("topology")) return make_error("missing --topology FILE (e.g. topologies/gb200-nvl72-8rack.yaml)");
  if (!args.has("workload")) return make_error("missing --workload FILE (e.g. workloads/llama3-405b.yaml)");
  return Ok{};
}

std::vector<OptionSpec> with_failure_options(std::vector<OptionSpec> specs) {
  auto at = std::find_if(specs.begin(), specs.end(), [](const OptionSpec& o) { return o.name == "set"; });
  if (at != specs.end()) ++at;
  specs.insert(at, {{"fail", "", true,
                     "take links down: device=NAME, from=A,to=B or class=CLASS, with fraction=1% for a random share; "
                     "docs/topology-format.md, Failures",
                     "", false, true},
                    {"degrade", "", true, "lower links' rate: a selector as for --fail with rate=50% or rate=400Gb/s",
                     "", false, true}});
  return specs;
}

std::vector<std::string> topology_sets(const ParsedArgs& args) {
  return config::with_failure_flags(args.all("set"), args.all("fail"), args.all("degrade"));
}

}  // namespace collsim::cli
