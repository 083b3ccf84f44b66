//! Writes the datasets the project generates itself: `datasets/shop-2w/shop_2w_per_minute.csv`,
//! two weeks of requests per minute to a web shop with a flash sale (see
//! `datasets/shop-2w/README.md`). Run: `cargo run --example make_datasets [OUTPUT_DIR]`
//! (default: the repository's `datasets/shop-2w`).

use flaskscale_core::traffic::{generate, shop_two_weeks_spec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/shop-2w").to_string());
    std::fs::create_dir_all(&dir)?;
    let spec = shop_two_weeks_spec();
    let series = generate(&spec)?;
    let path = std::path::Path::new(&dir).join("shop_2w_per_minute.csv");
    std::fs::write(&path, series.to_csv_string())?;
    let st = series.stats();
    println!(
        "wrote {} ({} rows, {} missing; mean {:.1}, max {:.0} requests/min)",
        path.display(),
        st.len,
        st.missing,
        st.mean,
        st.max
    );
    Ok(())
}
