// JSON views of jobs, epochs and models as the API returns them.
#pragma once

#include <initializer_list>
#include <string_view>
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

/// One `{"path", "message"}` problem for each key of `body` that is not in `allowed`.
nlohmann::json unknown_keys(const nlohmann::json& body,
                            std::initializer_list<std::string_view> allowed);

/// Names users give things (datasets, splits): 1-200 of [A-Za-z0-9._-], not starting with '.'.
bool valid_name(const std::string& name);

}  // namespace medfusion::server
