#include "sim/cli/study_point.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

#include "sim/cli/collective_sweep.h"
#include "sim/cli/goodput_plan.h"
#include "sim/cli/jobs_run.h"
#include "sim/cli/step_run.h"
#include "sim/collective/ops.h"
#include "sim/collective/protocol.h"
#include "sim/config/study_file.h"
#include "sim/config/topology_file.h"
#include "sim/config/yaml_fields.h"
#include "sim/engine/backend.h"
#include "sim/report/study_report.h"
#include "sim/topology/bill_of_materials.h"
#include "sim/topology/network.h"
#include "sim/topology/summary.h"
#include "sim/units/units.h"
#include "sim/workload/stragglers.h"
#include "sim/workload/workload_spec.h"

namespace collsim::cli {

namespace fs = std::filesystem;

// FNV-1a, 64 bits: a stable key for a point's inputs (not for security).
std::string hash_hex(std::string_view text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

// The collsim binary itself, hashed: results are reused only by the build
// that computed them (a new build may model things differently).
namespace {

const std::string& binary_hash() {
  static const std::string h = [] {
    // Read directly: the input-file size limit (read_text_file) is not for
    // the binary, which a debug build makes larger.
    std::ifstream in("/proc/self/exe", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return in || in.eof() ? hash_hex(text) : std::string("unknown-binary");
  }();
  return h;
}

}  // namespace

// Everything a point's result depends on, spelled out: the kind, the input
// files' contents (not their names), every override and option.
std::string point_inputs(const config::Study& study, const config::StudyBase& b,
                         const std::map<std::string, std::string>& files) {
  std::string s = fmt::format("collsim sweep point v1\nbinary {}\nkind {}\n", binary_hash(),
                              study.kind == config::StudyKind::kRun ? "run" : "collective");
  s += "topology file\n" + files.at(b.topology) + "\n";
  for (const auto& x : b.topology_sets) s += "set " + x + "\n";
  if (study.kind == config::StudyKind::kRun) {
    s += "workload file\n" + files.at(b.workload) + "\n";
    for (const auto& x : b.workload_sets) s += "set-workload " + x + "\n";
    s += fmt::format("what_if {}\n", b.what_if);
    s += fmt::format("stragglers {} jitter {}\n", b.stragglers, b.jitter);
    if (b.goodput) {
      s += fmt::format("goodput restart {} spares {} storage_write {} failure_scale {}\n", b.restart, b.spares,
                       b.storage_write, b.failure_scale);
    }
  } else {
    s += fmt::format("op {}\nbytes {}\ndatatype {}\nranks {}\n", b.op, b.bytes, b.datatype, b.ranks);
  }
  s += fmt::format("algo {}\nproto {}\nbackend {}\n", b.algo, b.proto, b.backend);
  if (b.placement != "all") s += fmt::format("placement {}\n", b.placement);  // keys of earlier studies stay
  if (!b.nccl.empty()) s += fmt::format("nccl {}\n", b.nccl);                 // likewise
  for (const auto& spec : config::study_neighbours(b.neighbours)) {
    auto job = parse_job(spec);
    s += "neighbour " + spec + "\n";
    if (job && files.count(job->workload_file)) s += "neighbour workload file\n" + files.at(job->workload_file) + "\n";
  }
  return s;
}

report::StudyRow empty_row(const report::StudyTable& t, const Planned& p) {
  report::StudyRow r;
  r.index = p.point.index;
  r.hash = p.hash;
  r.axis_values = p.axis_values;
  r.metrics.assign(t.metric_names.size(), NAN);
  r.labels.assign(t.label_names.size(), "");
  return r;
}

namespace {

// The cabling columns of either study kind (topology::cable_totals).
void set_cable_metrics(const report::StudyTable& t, report::StudyRow& row, const topology::CableTotals& c) {
  report::set_metric(t, row, "switches", static_cast<double>(c.switches));
  report::set_metric(t, row, "cables", static_cast<double>(c.cables));
  report::set_metric(t, row, "cable_m", c.metres);
  report::set_metric(t, row, "longest_cable_m", c.longest_m);
}

// run.stragglers and run.goodput (values checked by check_study).
// The cluster's cabling, IT power and price (topo's bill, where every part
// is priced), which no job placed on it changes.
Status set_cluster_metrics(const report::StudyTable& t, report::StudyRow& row, const config::TopologySpec& spec,
                           const topology::Topology& topo) {
  set_cable_metrics(t, row, topology::cable_totals(topo));
  auto bill = topology::bill_of_materials(spec);
  if (!bill) return bill.error();
  if (bill->unpriced.empty()) {
    report::set_metric(t, row, "it_power_kw", bill->it_watts / 1e3);
    report::set_metric(t, row, "capex_usd", bill->usd);
  } else {
    report::set_label(t, row, "unpriced", report::unpriced_list(*bill));
  }
  return Ok{};
}

Status add_straggler_and_goodput_metrics(const config::StudyBase& b, const StepRun& run, const report::StudyTable& t,
                                         report::StudyRow& row) {
  const long samples = std::strtol(b.stragglers.c_str(), nullptr, 10);
  std::optional<double> step_s;  // with stragglers: their mean step, which goodput then runs on
  if (samples > 0) {
    workload::StragglerOptions o;
    o.samples = static_cast<int>(samples);
    auto jitter = units::parse_share(b.jitter);
    if (!jitter) return jitter.error();
    o.jitter = *jitter;
    const auto s = workload::simulate_stragglers(run.graph, run.costs, *run.network, run.sim_options, o);
    report::set_metric(t, row, "step_p50_s", s.p50_s);
    report::set_metric(t, row, "step_p90_s", s.p90_s);
    report::set_metric(t, row, "step_p99_s", s.p99_s);
    step_s = s.mean_s;
  }
  if (!b.goodput) return Ok{};
  GoodputInputs in;
  in.samples = kStudyGoodputRuns;
  in.step_s = step_s;
  auto restart = units::parse_duration(b.restart);
  if (!restart) return restart.error();
  in.restart_s = restart->seconds;
  if (b.spares != "unlimited") in.spares = static_cast<int>(std::strtol(b.spares.c_str(), nullptr, 10));
  if (!b.storage_write.empty()) {
    auto w = units::parse_rate(b.storage_write);
    if (!w) return w.error();
    in.write_Bps = w->bytes_per_s;
  }
  in.failure_scale = std::strtod(b.failure_scale.c_str(), nullptr);
  auto planned = plan_goodput(run, in);
  if (!planned) return planned.error();
  const auto& plan = *planned;
  const auto g = goodput::simulate_goodput(plan.params);
  report::set_metric(t, row, "ettr", g.ettr.mean);
  report::set_metric(t, row, "ettr_p10", g.ettr.p10);
  report::set_metric(t, row, "effective_tokens_per_s", g.ettr.mean * plan.tokens_per_step / plan.step_s);
  return Ok{};
}

}  // namespace

// Simulates one point (in a worker process).
report::StudyRow evaluate(const config::Study& study, const report::StudyTable& t, const Planned& p,
                          const std::map<std::string, std::string>& files) {
  report::StudyRow row = empty_row(t, p);
  if (!p.base) {
    row.error = p.plan_error;
    return row;
  }
  const config::StudyBase& b = *p.base;
  auto error = [&](std::string message) {
    row.error = std::move(message);
    return row;
  };
  if (study.kind == config::StudyKind::kRun && !config::study_neighbours(b.neighbours).empty()) {
    // The study's job with its neighbours at once (jobs_run.h): its step
    // time together, alone, and the slowdowns.
    JobsRequest jr;
    jr.base.topology_file = b.topology;
    jr.base.topology_text = files.at(b.topology);
    jr.base.topology_sets = b.topology_sets;
    jr.base.workload_sets = b.workload_sets;
    if (!b.algo.empty()) jr.base.algo = b.algo;
    if (!b.proto.empty()) jr.base.proto = b.proto;
    jr.base.backend = b.backend;
    JobRequest own{b.workload, b.placement, b.workload + "@" + b.placement, 0, files.at(b.workload), std::nullopt};
    jr.jobs.push_back(own);
    for (const auto& spec : config::study_neighbours(b.neighbours)) {
      auto job = parse_job(spec);
      if (!job) return error(job.error().message);
      job->workload_text = files.at(job->workload_file);
      jr.jobs.push_back(*job);
    }
    const auto ran = run_jobs(jr);
    if (!ran) return error(ran.error().to_string());
    const auto& me = ran->jobs.front();
    double worst = 0;  // the most slowed neighbour's slowdown (below 1: see jobs_run.cc's note)
    for (std::size_t j = 1; j < ran->jobs.size(); ++j)
      worst = std::max(worst, ran->jobs[j].together_s / ran->jobs[j].alone_s);
    report::set_metric(t, row, "step_time_s", me.together_s);
    report::set_metric(t, row, "tokens_per_s", me.tokens_per_step / me.together_s);
    report::set_metric(t, row, "step_time_alone_s", me.alone_s);
    report::set_metric(t, row, "slowdown", me.together_s / me.alone_s);
    report::set_metric(t, row, "neighbour_slowdown", worst);
    auto spec = config::load_topology_text(files.at(b.topology), b.topology, b.topology_sets);
    if (!spec) return error(spec.error().to_string());
    auto topo = topology::build_topology(*spec);
    if (!topo) return error(topo.error().to_string());
    if (auto s = set_cluster_metrics(t, row, *spec, *topo); !s) return error(s.error().to_string());
    row.ok = true;
    return row;
  }
  if (study.kind == config::StudyKind::kRun) {
    StepRequest req;
    req.topology_file = b.topology;
    req.workload_file = b.workload;
    req.topology_text = files.at(b.topology);  // what the hash was taken of
    req.workload_text = files.at(b.workload);
    req.topology_sets = b.topology_sets;
    req.workload_sets = b.workload_sets;
    if (!b.algo.empty()) req.algo = b.algo;
    if (!b.proto.empty()) req.proto = b.proto;
    req.backend = b.backend;
    req.what_if = b.what_if;
    req.placement = b.placement;
    const auto ran = run_step(req);
    if (!ran) return error(ran.error().to_string());
    const auto& run = *ran;
    const auto& r = run->result;
    double exposed = 0;
    for (double e : r.exposed_s) exposed += e;
    const double tokens = static_cast<double>(run->workload.batch.global) * run->workload.model.seq_len;
    report::set_metric(t, row, "step_time_s", r.step_time_s);
    report::set_metric(t, row, "tokens_per_s", tokens / r.step_time_s);
    report::set_metric(t, row, "compute_s", r.compute_s);
    report::set_metric(t, row, "exposed_comm_s", exposed);
    report::set_metric(t, row, "bubble_s", r.bubble_s);
    report::set_metric(t, row, "mfu", report::throughput(run->report).mfu);
    // Energy and cost with parts the catalog does not price would rank the
    // point as cheaper than it is: left empty, the label says why.
    if (run->report.has_energy && !run->report.bill.unpriced.empty()) {
      report::set_label(t, row, "unpriced", report::unpriced_list(run->report.bill));
    } else if (run->report.has_energy) {
      const auto& e = run->report.energy;
      report::set_metric(t, row, "it_power_kw", run->report.bill.it_watts / 1e3);
      report::set_metric(t, row, "capex_usd", run->report.bill.usd);
      report::set_metric(t, row, "kwh_per_step", e.facility_J / 3.6e6);
      report::set_metric(t, row, "usd_per_step", e.usd);
      report::set_metric(t, row, "usd_per_mtok", e.usd / tokens * 1e6);
    }
    set_cable_metrics(t, row, topology::cable_totals(run->topo));
    if (!run->report.bottlenecks.empty()) {
      const auto& top = run->report.bottlenecks.front();
      report::set_metric(t, row, "bottleneck_delta_pct", top.delta_pct);
      report::set_label(t, row, "bottleneck", fmt::format("{}: {}", top.resource, top.what_if));
    }
    if (auto s = add_straggler_and_goodput_metrics(b, *run, t, row); !s) return error(s.error().to_string());
    // ASSUMPTION (named usd_per_effective_mtok): energy and capital accrue
    // over the whole wall-clock time, the time lost to failures included,
    // so a trained token costs usd_per_mtok / ETTR.
    const double usd = report::metric_of(t, row, "usd_per_mtok");
    const double ettr = report::metric_of(t, row, "ettr");
    if (std::isfinite(usd) && std::isfinite(ettr) && ettr > 0)
      report::set_metric(t, row, "usd_per_effective_mtok", usd / ettr);
    row.ok = true;
    return row;
  }
  auto spec = config::load_topology_text(files.at(b.topology), b.topology, b.topology_sets);
  if (!spec) return error(spec.error().to_string());
  auto topo = topology::build_topology(*spec);
  if (!topo) return error(topo.error().to_string());
  const topology::Network network(*topo);
  auto op = collective::parse_op(b.op);
  if (!op) return error(fmt::format("unknown collective.op '{}'", b.op));
  auto type_size = datatype_size(b.datatype);
  if (!type_size) return error(type_size.error().message);
  auto bytes = units::parse_size_arg(b.bytes);
  if (!bytes) return error(fmt::format("collective.bytes: {}", bytes.error().message));
  auto backend = engine::make_backend(b.backend);
  if (!backend) return error(backend.error().message);
  SweepRequest req;
  req.op = *op;
  req.algo = b.algo;
  req.proto = b.proto;
  req.sizes = {std::floor(bytes->count)};
  if (!b.nccl.empty()) {
    auto release = collective::parse_nccl_release(b.nccl);
    if (!release) return error(fmt::format("collective.nccl: {}", release.error().message));
    req.nccl = *release;
  }
  req.type_size = *type_size;
  req.type_name = b.datatype;
  req.ranks = network.num_gpus();
  if (b.ranks != "all") {
    char* end = nullptr;
    const long n = std::strtol(b.ranks.c_str(), &end, 10);
    if (end == b.ranks.c_str() || *end != '\0' || n < 2 || n > network.num_gpus()) {
      return error(fmt::format("collective.ranks must be from 2 to {}, found '{}'", network.num_gpus(), b.ranks));
    }
    req.ranks = static_cast<int>(n);
  }
  if (b.placement != "all") {
    if (b.ranks != "all") return error("collective.ranks and collective.placement both choose the GPUs: give one");
    if (auto placed = place_ranks(network, b.placement, "collective.placement", req); !placed)
      return error(placed.error().message);
  }
  auto rows = run_collective_sweep(req, network, **backend);
  if (!rows) return error(rows.error().to_string());
  const auto& r = rows->front();
  report::set_metric(t, row, "time_us", r.time_us);
  report::set_metric(t, row, "algbw_GBps", r.algbw_GBps);
  report::set_metric(t, row, "busbw_GBps", r.busbw_GBps);
  report::set_label(t, row, "algo", r.algo);
  report::set_label(t, row, "proto", r.proto);
  if (auto s = set_cluster_metrics(t, row, *spec, *topo); !s) return error(s.error().to_string());
  row.ok = true;
  return row;
}

// A finished point's result (status, metrics, labels, error), or nothing
// when absent or unreadable. Its index and axes come from the study, not
// the file: points with equal inputs share one file.
std::optional<report::StudyRow> read_point(const std::string& file, const report::StudyTable& t) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    const YAML::Node n = YAML::LoadFile(file);
    report::StudyRow r;
    r.hash = n["hash"].as<std::string>();
    r.ok = n["status"].as<std::string>() == "ok";
    for (const auto& m : t.metric_names) {
      const YAML::Node v = n["metrics"][m];
      r.metrics.push_back(v && !v.IsNull() ? v.as<double>() : NAN);
    }
    for (const auto& l : t.label_names) r.labels.push_back(n["labels"][l].as<std::string>(""));
    r.error = n["error"].as<std::string>("");
    if (const YAML::Node w = n["wall_s"]; w && !w.IsNull()) r.wall_s = w.as<double>();
    return r;
  } catch (const YAML::Exception& e) {
    std::fprintf(stderr, "collsim sweep: ignoring unreadable point file %s (%s); it will be simulated again\n",
                 file.c_str(), e.what());
    return std::nullopt;
  }
}

std::string point_file(const std::string& out, const std::string& hash) { return out + "/points/" + hash + ".json"; }

}  // namespace collsim::cli
