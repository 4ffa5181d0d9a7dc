// Command-line options: long names, nccl-tests-style short aliases, values
// given as "--name value", "--name=value" or "-x value". Unknown options are
// errors with a "did you mean".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::cli {

struct OptionSpec {
  std::string name;        // long name without "--"
  std::string short_name;  // one letter without "-", or empty
  bool takes_value = true;
  std::string help;
  std::string default_value;  // shown in --help; empty if none
  // Accepted but not listed one by one: --help names the group of them in
  // one line (nccl-tests' launch options, which a simulation ignores).
  bool grouped = false;
  // May be given more than once (ParsedArgs::all reads every value); --help
  // says so. Any other option given twice with different values is an error.
  bool repeatable = false;
};

class ParsedArgs {
 public:
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // The value given (the last one, if repeated), or the spec's default.
  std::string get(const std::string& name) const;
  // Every value given for a repeatable option, in order.
  std::vector<std::string> all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend Expected<ParsedArgs> parse_args(const std::vector<OptionSpec>&, const std::vector<std::string>&);
  std::map<std::string, std::vector<std::string>> values_;
  std::map<std::string, std::string> defaults_;
  std::vector<std::string> positional_;
};

Expected<ParsedArgs> parse_args(const std::vector<OptionSpec>& specs, const std::vector<std::string>& args);
// `value_names`: a value's name in this command where it is not the one its
// option has in every command (run's --jobs FILE, sweep's --jobs N).
std::string format_options_help(const std::vector<OptionSpec>& specs,
                                const std::map<std::string, std::string>& value_names = {});

// A whole number option from lo to hi; error "--NAME must be a whole number
// from LO to HI, found '...'".
Expected<long> whole_number_option(const ParsedArgs& args, const std::string& name, long lo, long hi);

// Errors for a command run on a topology and a workload: a positional
// argument, or --topology or --workload missing.
Status need_topology_and_workload(const ParsedArgs& args);

// `specs` with --fail and --degrade (topology_sets) after its --set.
std::vector<OptionSpec> with_failure_options(std::vector<OptionSpec> specs);

// --set assignments followed by every --fail and --degrade selector, as
// config::load_topology_file takes them (config/failure_spec.h).
std::vector<std::string> topology_sets(const ParsedArgs& args);

// The option's value as a finite number > 0; error "--NAME must be a finite number > 0, found '...'".
Expected<double> positive_number_option(const ParsedArgs& args, const std::string& name);
// The same where 0 is allowed (">= 0" in the error).
Expected<double> nonnegative_number_option(const ParsedArgs& args, const std::string& name);

}  // namespace collsim::cli
