// The Training, Model and Dataset APIs. Handlers are socket-free; slow ones (evaluation,
// dataset scans, waiting for a stop) are registered to run on the blocking pool.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medfusion/core/events.hpp"
#include "medfusion/core/paths.hpp"
#include "medfusion/core/server_config.hpp"
#include "medfusion/server/router.hpp"

namespace medfusion::store {
class Store;
}
namespace medfusion::jobs {
class JobManager;
}

namespace medfusion::server {

/// One evaluation, in plain types; the app supplies the torch implementation.
struct EvaluateCall {
    std::string checkpoint_path;  // absolute, inside output_dir
    std::string csv_path;         // absolute, inside the data roots
    std::string split;
    std::string output_dir;  // the job's folder; the report goes to <output_dir>/reports/
    std::string model_id;
    std::string architecture;
    std::string fusion_type;
    std::string dataset;
    std::vector<core::EpochRecord> history;
};

/// Returns {"metrics": {...}, "report_path": "...", "predictions_path": "..."}; throws
/// std::exception with a user-facing message on bad input.
using Evaluator = std::function<nlohmann::json(const EvaluateCall&)>;

struct ApiDeps {
    store::Store& store;
    jobs::JobManager& jobs;
    core::ServerConfig config;
    core::PathPolicy data_paths;    // data_roots, relative to data_base_dir
    core::PathPolicy output_paths;  // output_dir only: checkpoints a request may name
    Evaluator evaluator;            // may be empty: evaluation answers 503
};

void add_training_routes(Router& router, const ApiDeps& deps);
void add_model_routes(Router& router, const ApiDeps& deps);
void add_dataset_routes(Router& router, const ApiDeps& deps);

}  // namespace medfusion::server
