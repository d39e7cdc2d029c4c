//! Personal boards and versions: each board (two users and the anonymous one) sees only
//! its own tasks in lists, reads, writes and stats; writes honour `If-Match`.

use core_models::version::IfMatch;
use core_models::{AppError, Board};
use tasks::{StatsBucket, StatusCounts, TaskChanges, TaskService, TaskStatsQuery};
use uuid::Uuid;

use crate::support::{all_pages, days_from_today, due, new, query, set_status, store, today};

fn three_boards() -> [Board; 3] {
    [Board::Anonymous, Board::User(Uuid::now_v7()), Board::User(Uuid::now_v7())]
}

#[test]
fn every_board_lists_only_its_own_tasks() {
    let s = store();
    let boards = three_boards();
    let mut mine: Vec<Vec<Uuid>> = vec![Vec::new(); 3];
    for i in 0..12 {
        let b = i % 3;
        let status = ["pending", "in_progress", "completed"][i / 3 % 3];
        let task = s.tasks.create(boards[b], due(&format!("acme {i}"), Some(days_from_today(i as i64 - 6)), status));
        mine[b].push(task.unwrap().id);
    }
    for (board, ids) in boards.iter().zip(&mine) {
        let newest_first: Vec<Uuid> = ids.iter().rev().copied().collect();
        for q in ["", "q=acme", "sort=-created_at&limit=1", "sort=-created_at&status=pending,in_progress,completed"] {
            let listed: Vec<Uuid> = all_pages_on(&s.tasks, *board, q);
            assert_eq!(listed, newest_first, "{board:?} {q}");
        }
        for q in ["sort=title&limit=2", "sort=due_date&limit=3", "sort=-status", "sort=updated_at&has_due_date=true"] {
            let mut listed = all_pages_on(&s.tasks, *board, q);
            listed.sort();
            let mut want = ids.clone();
            want.sort();
            assert_eq!(listed, want, "{board:?} {q}");
        }
    }
    // The anonymous board's helpers see the anonymous tasks only.
    assert_eq!(all_pages(&s.tasks, query("")).len(), 4);
}

fn all_pages_on(s: &dyn TaskService, board: Board, query_string: &str) -> Vec<Uuid> {
    let mut list = query(query_string);
    let mut all = Vec::new();
    loop {
        let page = s.list(board, &list).unwrap();
        all.extend(page.items.iter().map(|t| t.id));
        let Some(cursor) = page.next_cursor else { break };
        list.page = list.page.continued(&cursor).unwrap();
    }
    all
}

#[test]
fn another_boards_task_is_unknown_to_every_call() {
    let s = store();
    let [anonymous, ada, bob] = three_boards();
    for (owner, others) in [(ada, [bob, anonymous]), (anonymous, [ada, bob])] {
        let task = s.tasks.create(owner, new("private")).unwrap();
        for other in others {
            assert_eq!(s.tasks.get(other, task.id).unwrap_err().status_code(), 404);
            for expected in [IfMatch::Any, IfMatch::version(1), IfMatch::version(7)] {
                let err = s.tasks.update(other, task.id, set_status("completed"), expected.clone()).unwrap_err();
                assert_eq!(err.status_code(), 404, "{other:?} {expected:?}: not 412, which would tell it exists");
                assert_eq!(s.tasks.delete(other, task.id, expected).unwrap_err().status_code(), 404);
            }
        }
        assert_eq!(s.tasks.get(owner, task.id).unwrap(), task, "untouched");
    }
}

#[test]
fn stats_count_the_boards_own_tasks() {
    let s = store();
    let [anonymous, ada, bob] = three_boards();
    s.tasks.create(anonymous, due("late", Some(days_from_today(-1)), "pending")).unwrap();
    for _ in 0..2 {
        s.tasks.create(ada, due("late", Some(days_from_today(-2)), "in_progress")).unwrap();
    }
    s.tasks
        .create(ada, new("done"))
        .and_then(|t| s.tasks.update(ada, t.id, set_status("completed"), IfMatch::Any))
        .unwrap();
    let range = TaskStatsQuery::new(today(), today(), StatsBucket::Day).unwrap();
    let of = |board| s.tasks.stats(board, &range).unwrap();
    let (a, b, c) = (of(anonymous), of(ada), of(bob));
    assert_eq!((a.by_status, a.overdue), (StatusCounts { pending: 1, in_progress: 0, completed: 0 }, 1));
    assert_eq!((b.by_status, b.overdue), (StatusCounts { pending: 0, in_progress: 2, completed: 1 }, 2));
    assert_eq!(b.completed_per_bucket[0].count, 1);
    assert_eq!((c.by_status, c.overdue, c.completed_per_bucket[0].count), (StatusCounts::default(), 0, 0));
}

#[test]
fn versions_move_on_real_changes_only() {
    let s = store();
    let board = Board::User(Uuid::now_v7());
    let task = s.tasks.create(board, new("t")).unwrap();
    assert_eq!(task.version, 1);
    let started = s.tasks.update(board, task.id, set_status("in_progress"), IfMatch::Any).unwrap();
    assert_eq!(started.version, 2);
    let same = s.tasks.update(board, task.id, set_status("in_progress"), IfMatch::version(2)).unwrap();
    assert_eq!(same, started, "no change, no new version");
    assert_eq!(s.tasks.update(board, task.id, TaskChanges::default(), IfMatch::Any).unwrap().version, 2);
    assert_eq!(s.tasks.get(board, task.id).unwrap().version, 2);
}

#[test]
fn a_stale_if_match_changes_nothing_and_names_the_current_version() {
    let s = store();
    let board = Board::Anonymous;
    let task = s.tasks.create(board, new("t")).unwrap();
    let v2 = s.tasks.update(board, task.id, set_status("completed"), IfMatch::version(1)).unwrap();
    for expected in [IfMatch::version(1), IfMatch::version(3), IfMatch::Versions(vec![])] {
        let err = s.tasks.update(board, task.id, set_status("pending"), expected.clone()).unwrap_err();
        assert!(matches!(err, AppError::VersionMismatch { current_version: 2 }), "{err:?}");
        let err = s.tasks.delete(board, task.id, expected).unwrap_err();
        assert!(matches!(err, AppError::VersionMismatch { current_version: 2 }), "{err:?}");
    }
    assert_eq!(s.tasks.get(board, task.id).unwrap(), v2);
    let v3 = s.tasks.update(board, task.id, set_status("pending"), IfMatch::Versions(vec![1, 2])).unwrap();
    assert_eq!((v3.version, v3.completed_at), (3, None));
    s.tasks.delete(board, task.id, IfMatch::version(3)).unwrap();
    assert_eq!(s.tasks.get(board, task.id).unwrap_err().status_code(), 404);
}
