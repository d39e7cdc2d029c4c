ALTER INDEX learning_paths_search RESET (fastupdate);
ALTER INDEX challenges_search RESET (fastupdate);
ALTER INDEX project_tasks_search RESET (fastupdate);
ALTER INDEX tasks_search RESET (fastupdate);
ALTER INDEX notes_search RESET (fastupdate);
