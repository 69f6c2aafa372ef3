//! Random concurrent transfers: whatever interleaving the writer sees, the ledger stays sound.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;

use crate::helpers::*;

#[derive(Debug, Clone)]
struct Move {
    from: usize,
    to: usize,
    amount: i64,
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        (0..4usize, 0..4usize, 1..60i64)
            .prop_filter_map("distinct accounts", |(from, to, amount)| {
                (from != to).then_some(Move { from, to, amount })
            }),
        100..200,
    )
}

#[test]
fn random_concurrent_transfers_keep_the_ledger_sound() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    runner
        .run(&moves(), |moves| {
            rt.block_on(check(moves));
            Ok(())
        })
        .unwrap();
}

async fn check(moves: Vec<Move>) {
    let app = app().await;
    let initial = [100i64, 50, 20, 0];
    let mut accounts = Vec::new();
    for (i, amount) in initial.iter().enumerate() {
        let (id, _) = funded(&app, &format!("b{i}"), *amount).await;
        accounts.push(id);
    }
    let results = futures::future::join_all(moves.iter().map(|m| {
        let app = &app;
        let (from, to) = (accounts[m.from].clone(), accounts[m.to].clone());
        async move { transfer(app, &from, &to, m.amount).await }
    }))
    .await;
    let mut expected: HashMap<usize, i64> = initial.iter().copied().enumerate().collect();
    for (m, r) in moves.iter().zip(results) {
        match r.status() {
            StatusCode::CREATED => {
                *expected.entry(m.from).or_default() -= m.amount;
                *expected.entry(m.to).or_default() += m.amount;
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                let b: serde_json::Value = r.json().await.unwrap();
                assert_eq!(
                    b["code"], "wallet.insufficient_funds",
                    "the only refusal is a lack of funds"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    for (i, id) in accounts.iter().enumerate() {
        let (posted, pending, _) = balances(&app, id).await;
        assert_eq!(
            posted, expected[&i],
            "account {i}: exactly the accepted transfers moved money"
        );
        assert!(posted >= 0, "account {i} went negative");
        assert_eq!(pending, 0);
    }
    assert_sound(&app).await;
}
