// Self-contained HTML reports (one file: inline SVG and CSS, no script, no
// network access): the training step of `collsim run --html` and the size
// sweep of `collsim collective --html`.
#pragma once

#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/config/validation_file.h"
#include "sim/report/collective_table.h"
#include "sim/report/step_report.h"
#include "sim/topology/network.h"
#include "sim/topology/topology.h"
#include "sim/workload/step_merge.h"

namespace collsim::report {

// The network's links grouped by resource ("infiniband nic-switch"): the
// groups the step simulation bins bytes by for the utilisation heat map.
struct LinkGroups {
  std::vector<std::string> names;
  std::vector<int> of_link;  // per network link, index into names
};
LinkGroups resource_groups(const topology::Network& network);

// Pipeline stages drawn in the step timeline (three rows each: 48 rows at
// most). Deeper pipelines show the first 15 and the last, and name the rest.
constexpr int kTimelineStages = 16;

struct StepHtmlInputs {
  const StepReport* report = nullptr;  // with graph and result (result.group_bytes binned by `groups`)
  const config::TopologySpec* spec = nullptr;
  const topology::Topology* topo = nullptr;
  const topology::Network* network = nullptr;
  LinkGroups groups;
  std::vector<int> tracked_links;         // result.link_timeline's links: extra heat-map rows
  int timeline_stages = kTimelineStages;  // replica 0's stages shown in the timeline (at least 1)
};
std::string step_html(const StepHtmlInputs& in);

// The busbw-vs-size curve, and the published measurements of `reference`
// (validation cases of the file `reference_file` on the same topology file,
// collective and GPUs) as markers.
std::string collective_html(const CollectiveHeader& header, const std::vector<CollectiveRow>& rows,
                            const std::vector<config::ValidationCase>& reference,
                            const std::string& reference_file = "tests/validation/cases.yaml");

// Several jobs at once (cli/jobs_run.h): a table of each job's step time
// alone and together, a timeline row per job (its first worker's compute
// stream, every repeat), the links where they met, and a floor plan per job
// coloured by its cables' utilisation alone.
struct JobsHtmlInputs {
  std::string title;                    // "2 jobs at once on gb200-nvl72-8rack"
  std::vector<std::string> job_labels;  // "job 1: llama3-70b on gpus:0-255 (...)"
  std::vector<double> alone_s, together_s;
  const workload::MergedSteps* merged = nullptr;
  const workload::StepResult* together = nullptr;                // of merged->graph
  std::vector<const std::vector<double>*> alone_link_bytes;      // per job, per network link
  std::vector<std::pair<std::string, std::vector<double>>> met;  // link name, each job's utilisation alone
  const config::TopologySpec* spec = nullptr;
  const topology::Topology* topo = nullptr;
  const topology::Network* network = nullptr;
};
std::string jobs_html(const JobsHtmlInputs& in);

// The step timeline's categories: 0 compute, then TP, CP, EP, PP, DP comm.
int timeline_category(const workload::StepOp& o);
std::vector<std::string> timeline_categories();

// The page around a report's body: shared styles, no script, nothing external.
std::string html_page(const std::string& title, const std::string& body);
// A headline number: <div class="card" id=ID><div class="v">VALUE</div>...
std::string html_card(const std::string& key, const std::string& value, const std::string& id);

// The share of a step the group's links were busy in each bin (0..1).
std::vector<std::vector<double>> group_utilisation(const workload::BinnedBytes& binned, const LinkGroups& groups,
                                                   const topology::Network& network, double step_s);

}  // namespace collsim::report
