// `collsim sweep STUDY.yaml`: every point of a study (docs/sweeps.md), on
// local worker processes, each result kept in its own file keyed by a hash
// of the point's inputs, so an interrupted study resumes where it stopped
// and shards run anywhere merge into one result.
//
// Out directory:
//   study.json          the study's points (index, hash, axes) and its hash
//   points/HASH.json    one finished point (written atomically)
//   results.csv, results.jsonl, report.html   every finished point, by index
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "sim/cli/args.h"
#include "sim/cli/collective_sweep.h"
#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/jobs_run.h"
#include "sim/cli/step_run.h"
#include "sim/cli/study_checks.h"
#include "sim/cli/study_point.h"
#include "sim/collective/ops.h"
#include "sim/config/study_file.h"
#include "sim/config/topology_file.h"
#include "sim/config/yaml_fields.h"
#include "sim/core/subprocess.h"
#include "sim/engine/backend.h"
#include "sim/report/atomic_file.h"
#include "sim/report/json.h"
#include "sim/report/study_report.h"
#include "sim/topology/network.h"
#include "sim/units/units.h"
#include "sim/workload/workload_spec.h"

namespace collsim::cli {

namespace fs = std::filesystem;

namespace {

const std::vector<OptionSpec>& sweep_options() {
  static const std::vector<OptionSpec> specs{
      {"out", "o", true, "results directory (default: the study's name, in the current directory)", ""},
      {"jobs", "j", true, "points simulated at once, each in its own process (default: all cores)", ""},
      {"shard", "", true, "run only the i-th of N disjoint slices of the points, e.g. --shard 2/4", ""},
      {"retry-failed", "", false, "simulate again the points whose earlier run recorded an error", ""},
      {"report", "", false, "only rewrite results.csv, results.jsonl and report.html from the points already done", ""},
      {"merge", "", false, "merge the results directories given as arguments (shards) into --out", ""},
      {"help", "h", false, "show this help", ""},
  };
  return specs;
}

// Prints the error and returns its exit code.
int stop(const Error& error) { return fail("sweep", error); }
int stop(const std::string& message) { return stop(make_error(message)); }

// Not an error of the command: the study ran, and some of its points
// recorded an error (docs/sweeps.md).
constexpr int kExitSomePointsFailed = 1;

// The results directory DIR/points, created when missing.
Status create_points_dir(const std::string& out) {
  std::error_code ec;
  fs::create_directories(out + "/points", ec);
  if (ec) return make_file_error(fmt::format("{}: cannot create: {}", out, ec.message()), ec.value());
  return Ok{};
}

// study.json: what the results directory is a study of.
struct IndexedPoint {
  int index = 0;
  std::string hash;
  std::vector<std::string> axis_values;
};
struct StudyIndex {
  std::string name, kind, study_hash;
  std::vector<std::string> axis_paths;
  std::vector<IndexedPoint> points;
};

std::string index_json(const StudyIndex& s) {
  report::JsonWriter j;
  j.begin_object();
  j.key("name").value(s.name);
  j.key("kind").value(s.kind);
  j.key("study_hash").value(s.study_hash);
  j.key("axis_paths").begin_array();
  for (const auto& p : s.axis_paths) j.value(p);
  j.end_array();
  j.key("points").begin_array();
  for (const auto& p : s.points) {
    j.begin_object().key("index").value(static_cast<double>(p.index)).key("hash").value(p.hash);
    j.key("axes").begin_array();
    for (const auto& v : p.axis_values) j.value(v);
    j.end_array().end_object();
  }
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

Expected<StudyIndex> read_index(const std::string& dir) {
  const std::string file = dir + "/study.json";
  try {
    const YAML::Node n = YAML::LoadFile(file);
    StudyIndex s;
    s.name = n["name"].as<std::string>();
    s.kind = n["kind"].as<std::string>();
    s.study_hash = n["study_hash"].as<std::string>();
    for (const auto& p : n["axis_paths"]) s.axis_paths.push_back(p.as<std::string>());
    for (const auto& p : n["points"]) {
      IndexedPoint ip{p["index"].as<int>(), p["hash"].as<std::string>(), {}};
      for (const auto& v : p["axes"]) ip.axis_values.push_back(v.as<std::string>());
      if (ip.axis_values.size() != s.axis_paths.size())
        throw YAML::Exception(YAML::Mark::null_mark(), "axes do not match axis_paths");
      s.points.push_back(std::move(ip));
    }
    return s;
  } catch (const YAML::BadFile&) {
    return make_error(fmt::format("{}: cannot open (is {} a results directory of collsim sweep?)", file, dir));
  } catch (const YAML::Exception& e) {
    return make_error(fmt::format("{}: not a study index: {}", file, e.what()));
  }
}

// Rewrites results.csv, results.jsonl and report.html from the point files.
Status write_results(const std::string& out, const StudyIndex& index, report::StudyTable* table) {
  *table = report::study_table_for(index.name, index.kind, index.axis_paths);
  table->expected_points = static_cast<int>(index.points.size());
  for (const auto& p : index.points) {
    auto row = read_point(point_file(out, p.hash), *table);
    if (!row) continue;
    row->index = p.index;
    row->axis_values = p.axis_values;
    table->rows.push_back(std::move(*row));
  }
  for (auto [name, content] : {std::pair{"results.csv", report::study_csv(*table)},
                               {"results.jsonl", report::study_jsonl(*table)},
                               {"report.html", report::study_html(*table)}}) {
    if (auto s = report::write_file_atomically(out + "/" + name, content); !s) return s;
  }
  return Ok{};
}

std::string summary(const std::string& out, const report::StudyTable& t) {
  int ok = 0, failed = 0;
  for (const auto& r : t.rows) (r.ok ? ok : failed)++;
  return fmt::format("{} of {} points done ({} ok, {} failed): {}/results.csv, results.jsonl, report.html",
                     t.rows.size(), t.expected_points, ok, failed, out);
}

int merge(const ParsedArgs& args) {
  if (!args.has("out")) return stop("--merge needs --out DIR (where the merged results go)");
  if (args.positional().empty())
    return stop("--merge needs the results directories to merge, e.g. --merge shard-1 shard-2 --out all");
  const std::string out = args.get("out");
  std::optional<StudyIndex> first;
  for (const auto& dir : args.positional()) {
    auto index = read_index(dir);
    if (!index) return stop(index.error());
    if (!first)
      first = *index;
    else if (index->study_hash != first->study_hash) {
      return stop(fmt::format("{} holds a different study ('{}', hash {}) than {} ('{}', hash {})", dir, index->name,
                              index->study_hash, args.positional().front(), first->name, first->study_hash));
    }
  }
  if (auto s = create_points_dir(out); !s) return stop(s.error());
  std::error_code ec;
  int copied = 0;
  const auto table0 = report::study_table_for(first->name, first->kind, first->axis_paths);
  for (const auto& dir : args.positional()) {
    for (const auto& p : first->points) {
      const std::string from = point_file(dir, p.hash), to = point_file(out, p.hash);
      if (!fs::exists(from, ec) || fs::equivalent(from, to, ec)) continue;
      // Keep what is there unless it failed and this one did not (a shard
      // that retried the point).
      if (auto there = read_point(to, table0)) {
        auto here = read_point(from, table0);
        if (there->ok || !here || !here->ok) continue;
      }
      auto text = config::read_text_file(from, "point file");
      if (!text) return stop(text.error());
      if (auto s = report::write_file_atomically(to, *text); !s) return stop(s.error());
      ++copied;
    }
  }
  if (auto s = report::write_file_atomically(out + "/study.json", index_json(*first)); !s) {
    return stop(s.error());
  }
  report::StudyTable table;
  if (auto s = write_results(out, *first, &table); !s) return stop(s.error());
  std::printf("merged %zu directories (%d point files copied); %s\n", args.positional().size(), copied,
              summary(out, table).c_str());
  const bool failed = std::any_of(table.rows.begin(), table.rows.end(), [](const auto& r) { return !r.ok; });
  return failed ? kExitSomePointsFailed : kExitOk;
}

}  // namespace

// --jobs and --shard: worker processes at once, and which slice of the points.
struct RunSlice {
  int jobs = 1;
  int shard = 1, shards = 1;
};
Expected<RunSlice> read_run_slice(const ParsedArgs& args) {
  RunSlice r;
  r.jobs = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  if (args.has("jobs")) {
    const std::string text = args.get("jobs");
    char* end = nullptr;
    const long j = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || j < 1 || j > 4096) {
      return make_error(fmt::format("--jobs must be a whole number from 1 to 4096, found '{}'", text));
    }
    r.jobs = static_cast<int>(j);
  }
  if (args.has("shard")) {
    const std::string text = args.get("shard");
    if (std::sscanf(text.c_str(), "%d/%d", &r.shard, &r.shards) != 2 || r.shards < 1 || r.shard < 1 ||
        r.shard > r.shards || text != fmt::format("{}/{}", r.shard, r.shards)) {
      return make_error(fmt::format("--shard must be i/N with 1 <= i <= N (e.g. 2/4), found '{}'", text));
    }
  }
  return r;
}

// Every point of `study` with its inputs' hash (the key of its result
// file), and the study's index (study.json).
std::vector<Planned> plan_points(const config::Study& study, const std::map<std::string, std::string>& files,
                                 StudyIndex& index) {
  const std::string kind = study.kind == config::StudyKind::kRun ? "run" : "collective";
  std::vector<Planned> plan;
  index = StudyIndex{study.name, kind, "", study.axis_paths(), {}};
  std::string all_hashes;
  for (auto& point : study.points()) {
    Planned p;
    for (const auto& [path, value] : point.assignments) p.axis_values.push_back(value);
    auto base = config::apply_point(study, point);
    if (base) {
      p.base = *base;
      p.hash = hash_hex(point_inputs(study, *base, files));
    } else {
      p.plan_error = base.error().to_string();
      std::string key = "invalid point\n";
      for (const auto& [path, value] : point.assignments) key += path + "=" + value + "\n";
      p.hash = hash_hex(key);
    }
    p.point = std::move(point);
    index.points.push_back({p.point.index, p.hash, p.axis_values});
    all_hashes += p.hash;
    plan.push_back(std::move(p));
  }
  index.study_hash = hash_hex(kind + "\n" + all_hashes);
  return plan;
}

int sweep_command(const std::vector<std::string>& argv) {
  auto parsed = parse_args(sweep_options(), argv);
  if (!parsed) return stop(parsed.error());
  const ParsedArgs& args = *parsed;
  if (args.has("help")) {
    std::printf(
        "usage: collsim sweep STUDY.yaml [options]\n"
        "       collsim sweep --merge DIR... --out DIR\n\n%s",
        format_options_help(sweep_options()).c_str());
    return kExitOk;
  }
  if (args.has("merge")) return merge(args);
  if (args.positional().size() != 1)
    return stop("expected one study file, e.g. collsim sweep examples/studies/nic-400-vs-800.yaml");

  auto study = config::load_study_file(args.positional().front());
  if (!study) return stop(study.error());
  const std::string out = args.has("out") ? args.get("out") : study->name;

  auto slice = read_run_slice(args);
  if (!slice) return stop(slice.error());
  const int jobs = slice->jobs, shard = slice->shard, shards = slice->shards;

  // The inputs every point reads, once; a missing file stops the study here.
  std::map<std::string, std::string> files;
  for (const std::string& f : {study->base.topology, study->base.workload}) {
    if (f.empty()) continue;
    auto text = config::read_text_file(
        f, study->kind == config::StudyKind::kRun && f == study->base.workload ? "workload file" : "topology file");
    if (!text) return stop(fmt::format("{} (named in {})", text.error().to_string(), study->file));
    files[f] = *text;
  }

  // run.neighbours' workload files (the base's and every axis value's).
  if (study->kind == config::StudyKind::kRun) {
    std::vector<std::string> values{study->base.neighbours};
    for (const auto& a : study->axes)
      for (std::size_t p = 0; p < a.paths.size(); ++p)
        if (a.paths[p] == "run.neighbours")
          for (const auto& v : a.values) values.push_back(v[p]);
    for (const auto& v : values) {
      for (const auto& spec : config::study_neighbours(v)) {
        auto job = parse_job(spec);
        if (!job) return stop(fmt::format("run.neighbours in {}: {}", study->file, job.error().message));
        if (files.count(job->workload_file)) continue;
        auto text = config::read_text_file(job->workload_file, "workload file");
        if (!text) return stop(fmt::format("{} (a neighbour named in {})", text.error().to_string(), study->file));
        files[job->workload_file] = *text;
      }
    }
  }

  if (auto s = check_study(*study, files); !s) return stop(s.error());

  StudyIndex index;
  const std::vector<Planned> plan = plan_points(*study, files, index);

  if (auto s = create_points_dir(out); !s) return stop(s.error());
  std::error_code ec;
  if (fs::exists(out + "/study.json", ec)) {
    auto old = read_index(out);
    if (old && old->study_hash != index.study_hash) {
      std::fprintf(stderr,
                   "collsim sweep: note: %s held results of another version of this study; points whose "
                   "inputs are unchanged are reused, the others simulated\n",
                   out.c_str());
    }
  }
  if (auto s = report::write_file_atomically(out + "/study.json", index_json(index)); !s) {
    return stop(s.error());
  }

  // What is left to do in this shard: each distinct input once (points with
  // equal inputs share one result).
  const auto table0 = report::study_table_for(index.name, index.kind, index.axis_paths);
  std::vector<std::size_t> todo;
  std::set<std::string> queued;
  int reused = 0, shard_points = 0;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].point.index % shards != shard - 1) continue;
    ++shard_points;
    auto done = read_point(point_file(out, plan[i].hash), table0);
    if (done && (done->ok || !args.has("retry-failed"))) {
      ++reused;
      continue;
    }
    if (queued.insert(plan[i].hash).second) {
      // A failure being retried must not stand in for a worker that dies.
      if (done) fs::remove(point_file(out, plan[i].hash), ec);
      todo.push_back(i);
    }
  }

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto started = std::chrono::steady_clock::now();
  int finished = 0, failed = 0;
  auto progress = [&](int running) {
    if (!tty) return;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string eta;
    if (finished > 0)
      eta = fmt::format(", ~{:.0f} s left", t / finished * (static_cast<double>(todo.size()) - finished));
    std::fprintf(stderr, "\r\033[Kcollsim sweep %s: %d of %zu points simulated (%d failed), %d running, %.0f s%s",
                 study->name.c_str(), finished, todo.size(), failed, running, t, eta.c_str());
    std::fflush(stderr);
  };

  if (!args.has("report") && !todo.empty()) {
    WorkerPool pool(jobs);
    std::size_t next = 0;
    bool killed = false;
    // A worker's point, once it has ended: its result, or (it died without
    // one: killed, out of memory, a crash) a failed row saying so, so the
    // study goes on and the point is not lost silently.
    auto finish = [&](std::size_t i, int status) {
      auto row = read_point(point_file(out, plan[i].hash), table0);
      if (!row && !WorkerPool::interrupted()) {
        report::StudyRow r = empty_row(table0, plan[i]);
        r.error = WIFSIGNALED(status) ? "the worker died: " + describe_exit(status)
                                      : "the worker ended with " + describe_exit(status) + " without a result";
        (void)report::write_file_atomically(point_file(out, plan[i].hash), report::study_row_json(table0, r) + "\n");
        row = r;
      }
      if (!row) return;
      ++finished;
      if (!row->ok) {
        ++failed;
        if (tty) std::fputs("\r\033[K", stderr);
        std::fprintf(stderr, "collsim sweep: point %d failed: %s\n", plan[i].point.index, row->error.c_str());
      }
    };
    progress(0);
    while (true) {
      bool changed = pool.reap(finish);
      if (WorkerPool::interrupted() && !killed) {
        pool.stop_all();
        killed = true;
      }
      while (!WorkerPool::interrupted() && pool.has_room() && next < todo.size()) {
        const std::size_t i = todo[next++];
        auto started_worker = pool.start(i, [&, i] {
          const auto began = std::chrono::steady_clock::now();
          auto row = evaluate(*study, table0, plan[i], files);
          row.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
          return report::write_file_atomically(point_file(out, plan[i].hash),
                                               report::study_row_json(table0, row, true) + "\n")
                         .ok()
                     ? 0
                     : 3;
        });
        if (!started_worker) {
          pool.stop_all();
          return stop(make_internal_error("cannot start a worker: " + started_worker.error().message));
        }
        changed = true;
      }
      if (pool.running() == 0 && (next >= todo.size() || WorkerPool::interrupted())) break;
      if (changed) progress(static_cast<int>(pool.running()));
      const timespec pause{0, 20'000'000};  // 20 ms; a signal ends it early
      ::nanosleep(&pause, nullptr);
    }
    if (tty) std::fputs("\r\033[K", stderr);
  }

  report::StudyTable table;
  if (auto s = write_results(out, index, &table); !s) return stop(s.error());
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("study %s%s: %d points here: %d simulated in %.1f s, %d reused; %s\n", study->name.c_str(),
              shards > 1 ? fmt::format(" (shard {}/{})", shard, shards).c_str() : "", shard_points, finished, wall,
              reused, summary(out, table).c_str());
  if (const int signo = WorkerPool::interrupted()) {
    std::fprintf(stderr, "collsim sweep: interrupted; run the same command again to simulate the remaining points\n");
    return 128 + signo;
  }
  int shard_failed = 0;
  for (const auto& r : table.rows)
    if (!r.ok && r.index % shards == shard - 1) ++shard_failed;
  return shard_failed > 0 ? kExitSomePointsFailed : kExitOk;
}

}  // namespace collsim::cli
