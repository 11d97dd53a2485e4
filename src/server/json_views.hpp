// JSON views of jobs, epochs and models as the API returns them.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "medfusion/core/events.hpp"
#include "medfusion/jobs/job_manager.hpp"
#include "medfusion/store/store.hpp"

namespace medfusion::server {

/// GET /api/training/{id}/status: the contract's fields plus progress, ETA and best epoch.
nlohmann::json job_status_json(const jobs::JobSnapshot& snapshot,
                               const std::vector<core::EpochRecord>& history);

/// One row of GET /api/training/jobs.
nlohmann::json job_summary_json(const jobs::JobSnapshot& snapshot);

nlohmann::json epoch_json(const core::EpochRecord& record);

/// One model as GET /api/models lists it: the contract's fields first, then the rest.
nlohmann::json model_json(const store::ModelRecord& model);

nlohmann::json evaluation_json(const store::EvaluationRecord& evaluation);

}  // namespace medfusion::server
