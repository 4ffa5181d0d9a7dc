// The HTML report's data and drawings: bytes binned over time by the step
// simulation (conservation), cable utilisation (bytes over capacity), the
// floor plan (one shape per rack, one line per pair of racks with cables),
// and the pages (every chart present, nothing external, no script).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "sim/cli/step_run.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/report/floor_plan.h"
#include "sim/report/html_report.h"
#include "sim/report/step_report.h"
#include "sim/report/study_report.h"
#include "sim/units/units.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "sim/workload/workload_spec.h"
#include "test_support.h"

namespace collsim {
namespace {

using testing::read_file;
using testing::run_collsim;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

// A step compiled and costed by the pipeline `collsim run` uses, on the
// analytical backend (fast; these tests are about reporting), without
// what-ifs. By default the small 32-GPU workload (TP 8 in a node, PP 2,
// DP 2 across nodes) on four H100 nodes.
std::unique_ptr<cli::StepRun> small_step(const std::string& topology = "topologies/h100-ib400-4node.yaml",
                                         const std::vector<std::string>& workload_sets = {}) {
  cli::StepRequest req;
  req.topology_file = std::string(COLLSIM_SOURCE_DIR) + "/" + topology;
  req.workload_file = std::string(COLLSIM_SOURCE_DIR) + "/tests/data/workloads/small-4node.yaml";
  req.workload_sets = workload_sets;
  req.backend = "analytical";
  req.what_if = false;
  req.bin_link_groups = true;  // bytes over time per resource class, as --html asks for
  auto run = cli::run_step(req);
  EXPECT_TRUE(run) << run.error().to_string();
  return run ? std::move(*run) : nullptr;
}

TEST(StepSimBins, BinnedBytesAddUpToEachResourceClasssBytes) {
  const auto run = small_step();
  ASSERT_TRUE(run);
  const auto& s = *run;
  const auto& groups = s.link_groups;
  const auto& r = s.result;
  const workload::StepSimOptions opt;  // for its default bin count
  ASSERT_TRUE(r.complete);
  // Recording does not change the simulation.
  const auto plain = workload::simulate_step(s.graph, s.costs, *s.network);
  EXPECT_DOUBLE_EQ(r.step_time_s, plain.step_time_s);

  ASSERT_EQ(r.group_bytes.bytes.size(), groups.names.size());
  const int bins = opt.time_bins;
  EXPECT_GE(r.group_bytes.bin_s * bins, r.step_time_s);      // the bins cover the step...
  EXPECT_LT(r.group_bytes.bin_s * bins / 2, r.step_time_s);  // ...and at least half of them are used
  std::vector<double> expected(groups.names.size(), 0.0);
  for (std::size_t l = 0; l < r.link_bytes.size(); ++l)
    expected[static_cast<std::size_t>(groups.of_link[l])] += r.link_bytes[l];
  int busy_groups = 0;
  for (std::size_t g = 0; g < expected.size(); ++g) {
    ASSERT_EQ(r.group_bytes.bytes[g].size(), static_cast<std::size_t>(bins));
    double binned = 0;
    for (double b : r.group_bytes.bytes[g]) binned += b;
    EXPECT_NEAR(binned, expected[g], 1e-6 * std::max(1.0, expected[g])) << groups.names[g];
    busy_groups += expected[g] > 0;
  }
  EXPECT_GE(busy_groups, 3);  // NVLink (TP), PCIe and InfiniBand (PP, DP)

  // No class carries more than its capacity in any bin.
  for (const auto& row : report::group_utilisation(r.group_bytes, groups, *s.network, r.step_time_s))
    for (double u : row) EXPECT_LE(u, 1 + 1e-9);
}

TEST(StepSimBins, BinsCoverComputeAfterTheLastTransfer) {
  // Pipeline stages on one node with slow compute: the step ends with
  // compute long after the last byte moved; the bins must still reach it.
  const auto run =
      small_step("topologies/hgx-h100.yaml", {"parallelism.tp=1", "parallelism.pp=8", "compute.mfu=0.2615"});
  ASSERT_TRUE(run);
  const auto& net = *run->network;
  workload::StepSimOptions opt;
  opt.link_group = report::resource_groups(net).of_link;
  const auto r = workload::simulate_step(run->graph, run->costs, net, opt);
  EXPECT_GE(r.group_bytes.bin_s * opt.time_bins, r.step_time_s);
  double total = 0, binned = 0;
  for (double b : r.link_bytes) total += b;
  for (const auto& grp : r.group_bytes.bytes)
    for (double b : grp) binned += b;
  EXPECT_NEAR(binned / total, 1.0, 1e-9);
}

TEST(StepSimBins, TwoBinsStillCoverTheStep) {
  const auto run = small_step();
  ASSERT_TRUE(run);
  const auto& s = *run;
  workload::StepSimOptions opt;
  opt.link_group = report::resource_groups(*s.network).of_link;
  opt.time_bins = 2;
  const auto r = workload::simulate_step(s.graph, s.costs, *s.network, opt);
  EXPECT_GE(r.group_bytes.bin_s * 2, r.step_time_s);
  double total = 0, binned = 0;
  for (double b : r.link_bytes) total += b;
  for (const auto& g : r.group_bytes.bytes)
    for (double b : g) binned += b;
  EXPECT_NEAR(binned / total, 1.0, 1e-9);
}

TEST(FloorPlan, CableUtilisationIsBytesOverCapacityForTheBusierDirection) {
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml");
  ASSERT_TRUE(spec.ok());
  auto topo = topology::build_topology(*spec);
  ASSERT_TRUE(topo.ok());
  const topology::Network net(*topo);
  // Pick a NIC-to-leaf cable (one file link, one network link each way).
  int up = -1;
  for (std::size_t l = 0; l < net.links().size(); ++l)
    if (net.links()[l].link_class == "infiniband" && net.links()[l].from_kind == config::DeviceKind::kNic)
      up = static_cast<int>(l);
  ASSERT_GE(up, 0);
  ASSERT_EQ(net.spec_links(up).size(), 1u);
  const int cable = net.spec_links(up).front();
  std::vector<double> bytes(net.links().size(), 0.0);
  const double step = 2.0;
  bytes[static_cast<std::size_t>(up)] = 0.25 * net.links()[static_cast<std::size_t>(up)].rate_Bps * step;
  const auto u = report::cable_utilisation(net, bytes, step, spec->links.size());
  ASSERT_EQ(u.size(), spec->links.size());
  for (std::size_t i = 0; i < u.size(); ++i) EXPECT_DOUBLE_EQ(u[i], static_cast<int>(i) == cable ? 0.25 : 0.0);
}

TEST(FloorPlan, OneShapePerRackAndOneLinePerPairOfRacksWithCables) {
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml");
  ASSERT_TRUE(spec.ok());
  auto topo = topology::build_topology(*spec);
  ASSERT_TRUE(topo.ok());
  std::set<std::pair<int, int>> pairs;
  for (const auto& l : spec->links) {
    const int a = spec->devices[static_cast<std::size_t>(l.a)].rack,
              b = spec->devices[static_cast<std::size_t>(l.b)].rack;
    if (!l.medium.empty() && a >= 0 && b >= 0 && a != b) pairs.insert({std::min(a, b), std::max(a, b)});
  }
  ASSERT_FALSE(pairs.empty());
  const std::string svg = report::floor_plan_svg(*spec, *topo);
  EXPECT_EQ(count_of(svg, "class=\"rack\""), spec->racks.size());
  EXPECT_EQ(count_of(svg, "class=\"cable\""), pairs.size());
  for (const auto& r : spec->racks) EXPECT_NE(svg.find(">" + r.name + "<"), std::string::npos) << r.name;
  // Coloured by medium as built: compute racks reach the network row over
  // optics (5-12 m, past copper's reach), and `auto` never shows.
  EXPECT_NE(svg.find("class=\"medium-key\""), std::string::npos);
  EXPECT_NE(svg.find(">fibre<"), std::string::npos);
  EXPECT_EQ(svg.find("auto"), std::string::npos);
  // Every cable is counted once, a bundle as its lanes (topo's count): the
  // racks' "N cables inside" and the lines' "N cables (" add up to it (the
  // network rack's 32 bundles of 18 leaf-spine cables were counted 32).
  int cables = 0;
  for (const auto& l : spec->links) cables += l.medium.empty() ? 0 : std::max(1, l.lanes);
  int drawn = 0;
  for (const std::regex& re : {std::regex(R"((\d+) cables inside)"), std::regex(R"(: (\d+) cables \()")}) {
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
      drawn += std::stoi((*it)[1]);
  }
  EXPECT_EQ(drawn, cables);
  EXPECT_NE(svg.find("net0 (row 1, slot 0): 12 switch; 576 cables inside"), std::string::npos);
}

// Adds a point of a run study over axis x: its step time and dollars per
// million tokens, and `metric` = `value` beside them.
void add_point(report::StudyTable& t, const char* name, double step, double usd, bool ok = true,
               const char* metric = "it_power_kw", double value = 10) {
  report::StudyRow r;
  r.index = static_cast<int>(t.rows.size());
  r.axis_values = {name};
  r.ok = ok;
  r.metrics.assign(t.metric_names.size(), NAN);
  r.labels.assign(t.label_names.size(), "");
  report::set_metric(t, r, "step_time_s", step);
  report::set_metric(t, r, "usd_per_mtok", usd);
  report::set_metric(t, r, metric, value);
  t.rows.push_back(r);
}

TEST(StudyReport, ParetoFrontOfStepTimeAndCost) {
  // Points (step time, dollars per million tokens): A (1, 3) and B (2, 1)
  // are on the front; C (2.5, 2.5) is beaten by B on both, D (1.5, 3.5) by
  // A; E failed; F has no price.
  auto t = report::study_table_for("s", "run", {"x"});
  auto add = [&](const char* name, double step, double usd, bool ok = true) { add_point(t, name, step, usd, ok); };
  add("A", 1, 3);
  add("C", 2.5, 2.5);
  add("B", 2, 1);
  add("D", 1.5, 3.5);
  add("E", 0.5, 0.5, false);
  add("F", 0.7, NAN);
  EXPECT_EQ(report::pareto_front(t, "step_time_s", "usd_per_mtok"), (std::vector<int>{0, 2}));
  const std::string html = report::study_html(t);
  EXPECT_NE(html.find("data-chart=\"pareto\""), std::string::npos);
  EXPECT_NE(html.find("Cost against step time"), std::string::npos);
}

// Two points tie on step time: the best-point card names the cheaper, the
// one the Pareto front keeps; tokens_per_s is a rate, not a duration (it
// was printed as 14.7 d for 1,269,837 tokens/s).
TEST(StudyReport, ATieGoesToTheCheaperPointAndRatesAreNotDurations) {
  auto t = report::study_table_for("s", "run", {"x"});
  add_point(t, "dear", 0.04165576417941428, 0.0378, true, "tokens_per_s", 1269837);
  add_point(t, "cheap", 0.04165576417941428, 0.0348, true, "tokens_per_s", 1269837);
  EXPECT_EQ(report::pareto_front(t, "step_time_s", "usd_per_mtok"), (std::vector<int>{1}));
  const std::string html = report::study_html(t);
  EXPECT_NE(html.find("(lower is better): x=cheap"), std::string::npos) << html.substr(0, 3000);
  EXPECT_EQ(html.find("14.7 d"), std::string::npos);
  EXPECT_NE(html.find("1.27e+06"), std::string::npos);
}

TEST(FloorPlan, ATopologyWithoutRacksSaysSo) {
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/hgx-h100.yaml");
  ASSERT_TRUE(spec.ok());
  auto topo = topology::build_topology(*spec);
  ASSERT_TRUE(topo.ok());
  const std::string svg = report::floor_plan_svg(*spec, *topo);
  EXPECT_NE(svg.find("No floor plan"), std::string::npos);
  EXPECT_EQ(count_of(svg, "class=\"rack\""), 0u);
}

TEST(HtmlReport, StepPageHasEveryChartAndNothingExternal) {
  const auto run = small_step();
  ASSERT_TRUE(run);
  const auto& s = *run;
  const auto& r = s.result;
  auto rep = s.report;
  rep.bottlenecks.push_back({"GPU compute", "2x faster", 1.0, r.step_time_s * 0.6, -40.0});
  rep.has_energy = true;
  rep.energy.facility_J = 900;  // 0.25 Wh: the card keeps its digits, not "0.00 kWh"
  const report::StepHtmlInputs in{&rep, &s.spec, &s.topo, s.network.get(), s.link_groups, {}};
  const std::string html = report::step_html(in);
  EXPECT_NE(html.find(">0.25 Wh<"), std::string::npos);
  for (const char* chart : {"breakdown", "timeline", "link-heat-map", "what-if", "floor-plan"}) {
    EXPECT_NE(html.find(std::string("data-chart=\"") + chart), std::string::npos) << chart;
  }
  EXPECT_NE(html.find(units::format(units::Duration{r.step_time_s})), std::string::npos);
  EXPECT_EQ(count_of(html, "<svg"), count_of(html, "</svg>"));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  // The only URL is the SVG namespace (an identifier, never fetched).
  EXPECT_EQ(count_of(html, "https:"), 0u);
  EXPECT_EQ(count_of(html, "http:"), count_of(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  // Every resource class that carried bytes has a heat-map row.
  EXPECT_NE(html.find("nvlink4 gpu-nvswitch (mean)"), std::string::npos);
  EXPECT_NE(html.find("infiniband nic-switch (mean)"), std::string::npos);
}

// Deeper pipelines than the timeline's limit: the first stages and the last
// are drawn, and the chart names the ones left out.
TEST(HtmlReport, TimelineNamesTheStagesItLeavesOut) {
  // small-4node with pp 4: 32 GPUs / (tp 8 x pp 4) = one replica of 4 stages.
  const auto run = small_step("topologies/h100-ib400-4node.yaml", {"parallelism.pp=4"});
  ASSERT_TRUE(run);
  const auto& s = *run;
  ASSERT_EQ(s.graph.pp, 4);
  // The timeline's row labels about stages (SVG text, not the tooltips).
  auto labels = [](const std::string& html) {
    std::vector<std::string> out;
    const std::regex label(R"(<text[^>]*>(stages? [^<]*)</text>)");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), label); it != std::sregex_iterator(); ++it) {
      out.push_back((*it)[1].str());
    }
    return out;
  };
  report::StepHtmlInputs in{&s.report, &s.spec, &s.topo, s.network.get(), s.link_groups, {}};
  // Room for all four: every stage, nothing named as left out.
  EXPECT_GE(report::kTimelineStages, 4);
  std::string html = report::step_html(in);
  EXPECT_EQ(labels(html), (std::vector<std::string>{"stage 0 (GPU 0-7) compute", "stage 1 (GPU 8-15) compute",
                                                    "stage 2 (GPU 16-23) compute", "stage 3 (GPU 24-31) compute"}));
  EXPECT_EQ(html.find("not shown"), std::string::npos);
  // Room for 3: stages 0 and 1, a row naming stage 2, then the last stage.
  in.timeline_stages = 3;
  html = report::step_html(in);
  EXPECT_EQ(labels(html), (std::vector<std::string>{"stage 0 (GPU 0-7) compute", "stage 1 (GPU 8-15) compute",
                                                    "stage 2 not shown", "stage 3 (GPU 24-31) compute"}));
  EXPECT_NE(html.find("Replica 0, 3 of 4 pipeline stages (stage 2 not shown)."), std::string::npos);
  // Room for 2: stage 0, then stages 1-2 named, then stage 3.
  in.timeline_stages = 2;
  html = report::step_html(in);
  EXPECT_EQ(labels(html), (std::vector<std::string>{"stage 0 (GPU 0-7) compute", "stages 1-2 not shown",
                                                    "stage 3 (GPU 24-31) compute"}));
  EXPECT_NE(html.find("Replica 0, 2 of 4 pipeline stages (stages 1-2 not shown)."), std::string::npos);
  // Room for 1: stage 0 and the rest named after it.
  in.timeline_stages = 1;
  EXPECT_EQ(labels(report::step_html(in)),
            (std::vector<std::string>{"stage 0 (GPU 0-7) compute", "stages 1-3 not shown"}));
}

TEST(HtmlReport, CollectivePageShowsTheSameCasesPublishedMeasurements) {
  const std::string html = ::testing::TempDir() + "nvls.html";
  auto r = run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 8G --algo nvls --proto Simple --html " + html);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string page = read_file(html);
  EXPECT_NE(page.find("data-chart=\"busbw\""), std::string::npos);
  // The validation table's 14 NVLS points, as open markers, plus one legend marker.
  EXPECT_NE(page.find("measured: h100-8gpu-nvls"), std::string::npos);
  EXPECT_EQ(count_of(page, "fill=\"white\""), 14u + 1u);
  EXPECT_EQ(page.find("h100-8gpu-ring"), std::string::npos) << "ring measurements on an NVLS curve";
  // What binds, per size, with link names escaped ("gpu0->nvswitch0").
  EXPECT_NE(page.find("<th>busiest (share of the time)</th>"), std::string::npos);
  EXPECT_NE(page.find("nvlink4 gpu-nvswitch ("), std::string::npos);
  EXPECT_NE(page.find("-&gt;"), std::string::npos);

  // Another cluster (--set) is not the measured one: no markers.
  r = run_collsim(
      "collective -t topologies/hgx-h100.yaml -b 1M -e 4M --algo nvls --proto Simple "
      "--set links[0].rate=100GB/s --html " +
      html);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  page = read_file(html);
  EXPECT_EQ(page.find("measured:"), std::string::npos);
  EXPECT_NE(page.find("No published measurement"), std::string::npos);

  r = run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 1M --validation no/such/file.yaml --html " + html);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no/such/file.yaml"), std::string::npos) << r.err;
}

// Measurements on other GPUs of the same cluster are not this case's: the
// 10-node send/recv on all 80 GPUs shows the 8-GPU-a-node run only, and
// --placement per-domain:1 the case with that placement.
TEST(HtmlReport, CollectivePageMatchesTheMeasurementsGpus) {
  const std::string html = ::testing::TempDir() + "sendrecv.html";
  const std::string base =
      "collective -t tests/validation/topologies/h100-ib400-10node.yaml --op sendrecv -b 1G -e 1G --nccl 2.29.2 "
      "--backend analytical --validation tests/validation/h100-10node-curves.yaml --html " +
      html;
  for (const auto& [extra, shown] :
       {std::pair<std::string, std::string>{"", "g8"}, {" --placement per-domain:1", "g1"}}) {
    auto r = run_collsim(base + extra);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string page = read_file(html);
    EXPECT_NE(page.find("(tests/validation/h100-10node-curves.yaml, with sources)"), std::string::npos);
    for (const char* g : {"g1", "g2", "g4", "g8"}) {
      const bool present = page.find(std::string("measured: h100-10node-") + g + "-sendrecv") != std::string::npos;
      EXPECT_EQ(present, g == shown) << extra << " " << g;
    }
  }
}

// nccl-tests' -d all and -o all run every type and reduction in turn: one
// curve each, named by them (all 72 were one zigzag "collsim (auto)"), and
// the table names each row's.
TEST(HtmlReport, CollectivePageDrawsACurvePerTypeAndReduction) {
  const std::string html = ::testing::TempDir() + "types.html";
  const auto r = run_collsim(
      "collective -t topologies/hgx-h100.yaml -b 1M -e 4M -d all -o all --backend analytical --html " + html);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = read_file(html);
  EXPECT_NE(page.find("collsim (auto, float sum)"), std::string::npos);
  EXPECT_NE(page.find("collsim (auto, half max)"), std::string::npos);
  EXPECT_EQ(page.find("collsim (auto)<"), std::string::npos);
  EXPECT_NE(page.find("<td>bfloat16</td><td>prod</td>"), std::string::npos);
}

// An NCCL_ALGO list is compared with the measurements of the algorithms it
// allows (it matched none: the list is not an algorithm's name).
TEST(HtmlReport, CollectivePageOfAListShowsItsAlgorithmsMeasurements) {
  const std::string html = ::testing::TempDir() + "list.html";
  const std::string run =
      "collective -t tests/validation/topologies/h100-ib400-2node.yaml --set nccl.min_ctas=24 "
      "--set nccl.ib_qps_per_connection=2 -b 1M -e 1G -f 32 --backend analytical --html " +
      html + " --algo ";
  for (const auto& [algo, shown] : {std::pair<std::string, bool>{"ring,tree", true}, {"^ring", false}}) {
    const auto r = run_collsim(run + algo);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(html).find("measured: h100-2node-ring-curve") != std::string::npos, shown) << algo;
  }
}

TEST(TopoSvg, DrawsTiersAndFloorPlan) {
  const std::string svg = ::testing::TempDir() + "topo.svg";
  auto r = run_collsim("topo topologies/gb200-nvl72-8rack.yaml --svg " + svg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string doc = read_file(svg);
  EXPECT_EQ(doc.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count_of(doc, "class=\"rack\""), 9u);  // 8 compute racks and the network rack
  // Tiers: GPUs, then NVSwitches, NICs and Grace CPUs one hop away, leaves, spines.
  for (const char* g :
       {">576 x gpu<", ">144 x nvswitch<", ">576 x nic<", ">288 x cpu<", ">8 x switch<", ">4 x switch<"}) {
    EXPECT_NE(doc.find(g), std::string::npos) << g;
  }
}

}  // namespace
}  // namespace collsim
