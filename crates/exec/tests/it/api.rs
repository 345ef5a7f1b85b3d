//! The job API and determinism, the same on both engines.

use super::*;

#[tokio::test]
async fn smoke() {
    for engine in engines(TEST_LIMITS).await {
        println!("{}", engine.id());
        println!("{:?}", run(&engine, "function jsJobRun(i, o, cb) { cb(null, {b: i, a: Math.random(), d: new Date().toISOString()}); }", b"[1,2]").await);
        println!("{:?}", run(&engine, "async function jsJobRun(i) { await new Promise(r => setTimeout(r, 1000)); return [Date.now(), performance.now()]; }", b"x").await);
        println!(
            "{:?}",
            run(
                &engine,
                "function jsJobRun(i) { throw new TypeError('bad ' + i); }",
                b"x"
            )
            .await
        );
        println!(
            "{:?}",
            run(&engine, "function jsJobRun(i) { for(;;){} }", b"x").await
        );
        println!(
            "{:?}",
            run(
                &engine,
                "function jsJobRun(i) { return new Promise(() => {}); }",
                b"x"
            )
            .await
        );
    }
}
