//! Sorting a result by one column without touching its batches: the grid shows rows through the
//! returned permutation.

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, DynComparator, StringArray, make_comparator};
use arrow::compute::{SortOptions, concat, sort_to_indices};
use arrow::error::ArrowError;

use super::ResultSet;
use super::format;

/// Direction of a column sort. NULLs go last either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// Row order of the whole result by column `col`: NULLs last in both orders, equal values kept in
/// their original order (stable).
///
/// Vectorised: the column's arrays are concatenated and sorted with arrow's kernels (floats in
/// IEEE total order, strings by bytes, lists/structs element-wise). Types arrow cannot compare
/// (maps, unions…) are sorted by their display text.
pub fn sort_indices(rs: &ResultSet, col: usize, order: SortOrder) -> Result<Vec<u32>, ArrowError> {
    let column = whole_column(rs, col)?;
    let options = SortOptions {
        descending: order == SortOrder::Descending,
        nulls_first: false,
    };
    match stable_sort(column.as_ref(), options) {
        Ok(indices) => Ok(indices),
        Err(_) => {
            let text = display_text_column(column.as_ref());
            stable_sort(&text, options)
        }
    }
}

/// Column `col` of every batch as one array, checking that row numbers fit the `u32` indices.
pub(crate) fn whole_column(rs: &ResultSet, col: usize) -> Result<ArrayRef, ArrowError> {
    if col >= rs.num_columns() {
        return Err(ArrowError::InvalidArgumentError(format!(
            "no column {} in a result of {} columns",
            col + 1,
            rs.num_columns()
        )));
    }
    if u32::try_from(rs.num_rows()).is_err() {
        return Err(ArrowError::InvalidArgumentError(format!(
            "the result has {} rows; sorting and filtering handle at most {}",
            rs.num_rows(),
            u32::MAX
        )));
    }
    let mut parts: Vec<&dyn Array> = Vec::with_capacity(rs.batches().len());
    for (n, batch) in rs.batches().iter().enumerate() {
        let array = batch.columns().get(col).ok_or_else(|| {
            ArrowError::InvalidArgumentError(format!(
                "batch {} has {} columns, column {} is missing",
                n + 1,
                batch.num_columns(),
                col + 1
            ))
        })?;
        parts.push(array.as_ref());
    }
    match parts.as_slice() {
        [] => Ok(arrow::array::new_empty_array(
            rs.schema().field(col).data_type(),
        )),
        [one] => Ok(arrow::array::make_array(one.to_data())),
        _ => concat(&parts),
    }
}

/// The one-line display text of every value (NULL stays null), for types arrow cannot compare.
pub(crate) fn display_text_column(array: &dyn Array) -> StringArray {
    (0..array.len())
        .map(|i| format::resolve(array, i).map(|_| format::line(array, i).text))
        .collect()
}

/// Sorts with arrow's fast (unstable) kernel, then restores the original order inside each run
/// of equal keys so that re-sorting by another column keeps the previous order among ties.
fn stable_sort(array: &dyn Array, options: SortOptions) -> Result<Vec<u32>, ArrowError> {
    let cmp = make_comparator(array, array, options)?;
    let mut indices: Vec<u32> = match sort_to_indices(array, Some(options), None) {
        Ok(sorted) => sorted.values().to_vec(),
        Err(_) => {
            // Comparable but without a dedicated kernel (e.g. structs): a stable sort on indices.
            let mut all: Vec<u32> = (0..array.len())
                .filter_map(|i| u32::try_from(i).ok())
                .collect();
            all.sort_by(|&a, &b| cmp(a as usize, b as usize));
            return Ok(all);
        }
    };
    order_ties(&mut indices, &cmp);
    Ok(indices)
}

/// Sorts each run of equal keys by row number.
fn order_ties(indices: &mut [u32], cmp: &DynComparator) {
    let mut start = 0;
    for i in 1..=indices.len() {
        let run_ends = i == indices.len()
            || cmp(indices[i - 1] as usize, indices[i] as usize) != Ordering::Equal;
        if run_ends {
            if i - start > 1 {
                indices[start..i].sort_unstable();
            }
            start = i;
        }
    }
}
