//! The one integration-test binary: every test runs the real `git-coord`
//! binary against real git repositories in temp directories (see `env`).

mod env;
mod services;
mod test_check_deps;
mod test_deps;
mod test_doctor;
mod test_errors;
mod test_everyday;
mod test_exec;
mod test_formats_filters;
mod test_gate;
mod test_graph;
mod test_graph_edges;
mod test_history;
mod test_hooks;
mod test_hostile_input;
mod test_index;
mod test_index_graph;
mod test_issues;
mod test_legacy_section;
mod test_mcp;
mod test_mcp_reports;
mod test_memory;
mod test_merge;
mod test_plan_lifecycle;
mod test_plans;
mod test_semantics;
mod test_settings;
mod test_store;
mod test_sync;
mod test_todos;
mod test_validate_plan;
mod test_watch;
