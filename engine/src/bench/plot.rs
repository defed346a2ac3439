//! SVG charts of a benchmark sweep (`sluice bench --sweep ... --plot FILE.svg`): throughput
//! per CPU-second and per wall second against the swept setting, drawn with `plotters`.

use std::path::Path;

use plotters::prelude::*;

use crate::bench::{BenchError, Summary};

/// Draws records per CPU-second and records per wall second (medians) of each sweep point.
/// Numeric settings are placed on a numeric axis (logarithmic when they span more than 16×);
/// other settings are spaced evenly in the order given.
pub fn sweep_chart(
    path: &Path,
    case: &str,
    key: &str,
    points: &[Summary],
) -> Result<(), BenchError> {
    if points.is_empty() {
        return Err(BenchError::Chart {
            path: path.display().to_string(),
            reason: "nothing to plot".into(),
        });
    }
    let values: Vec<String> = points
        .iter()
        .map(|p| p.median.settings.get(key).cloned().unwrap_or_default())
        .collect();
    let numeric: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
    let xs: Vec<f64> = numeric
        .clone()
        .unwrap_or_else(|| (0..values.len()).map(|i| i as f64).collect());
    let cpu: Vec<(f64, f64)> = xs
        .iter()
        .zip(points)
        .map(|(&x, p)| (x, p.median.records_per_cpu_second))
        .collect();
    let wall: Vec<(f64, f64)> = xs
        .iter()
        .zip(points)
        .map(|(&x, p)| (x, p.median.records_per_second))
        .collect();
    let y_max = cpu.iter().chain(&wall).map(|p| p.1).fold(1.0, f64::max) * 1.15;
    let (x_min, x_max) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let log_x = numeric.is_some() && x_min > 0.0 && x_max / x_min > 16.0;

    let err = |e: &dyn std::fmt::Display| BenchError::Chart {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let caption = format!("{case}: throughput against {key}");
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    let labels = values.clone();
    let is_numeric = numeric.is_some();
    let format_x = move |x: &f64| {
        if is_numeric {
            format!("{x}")
        } else {
            labels
                .get(x.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default()
        }
    };
    let format_y = |y: &f64| format!("{:.0}k", y / 1e3);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(key)
                .y_desc("records per second (median)")
                .x_label_formatter(&format_x)
                .y_label_formatter(&format_y)
                .draw()
                .map_err(|e| err(&e))?;
            for (series, color, label) in [
                (&cpu, BLUE, "records per CPU-second"),
                (&wall, RED, "records per wall second"),
            ] {
                chart
                    .draw_series(LineSeries::new(series.iter().copied(), color))
                    .map_err(|e| err(&e))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
                chart
                    .draw_series(
                        series
                            .iter()
                            .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
                    )
                    .map_err(|e| err(&e))?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(&e))?;
        }};
    }
    if log_x {
        draw!(
            builder
                .build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), 0.0..y_max)
                .map_err(|e| err(&e))?
        );
    } else {
        let pad = ((x_max - x_min) * 0.05).max(0.5);
        draw!(
            builder
                .build_cartesian_2d(x_min - pad..x_max + pad, 0.0..y_max)
                .map_err(|e| err(&e))?
        );
    }
    root.present().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{Case, Overrides, run_in_process};

    #[test]
    fn a_sweep_chart_has_both_series_and_every_point() {
        let points: Vec<Summary> = ["256", "4096"]
            .iter()
            .map(|n| {
                let r = run_in_process(Case::W3, 5000, &Overrides::one("batch.size", n), |_| {})
                    .unwrap();
                Summary::of(vec![r]).unwrap()
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.svg");
        sweep_chart(&path, "W3", "batch.size", &points).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("W3: throughput against batch.size"));
        assert!(svg.contains("records per CPU-second") && svg.contains("records per wall second"));
        assert_eq!(svg.matches("<circle").count(), 4, "two points per series");
    }
}
