//! Sparse feature rows: the records the model is fitted on and predicts from.

use linfa::dataset::Records;

/// One comment's features: sorted, distinct column indices and their weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureVector {
    /// Column indices, strictly increasing.
    pub indices: Vec<u32>,
    /// The weight of each column in `indices`.
    pub values: Vec<f64>,
}

impl FeatureVector {
    /// Empties the vector, keeping its buffers.
    pub fn clear(&mut self) {
        self.indices.clear();
        self.values.clear();
    }

    /// Number of non-zero columns.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// `(column, weight)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.indices
            .iter()
            .zip(&self.values)
            .map(|(&i, &v)| (i as usize, v))
    }
}

/// A sparse comments × features matrix in compressed-row form. No dense matrix is ever built.
///
/// It implements linfa's [`Records`], so it can be the records of a [`linfa::DatasetBase`].
///
/// ```
/// use comment_sieve::{FeatureMatrix, FeatureVector};
/// let mut m = FeatureMatrix::new(4);
/// m.push(&FeatureVector { indices: vec![0, 3], values: vec![2.0, 1.0] }).unwrap();
/// m.push(&FeatureVector::default()).unwrap();
/// assert_eq!(m.nrows(), 2);
/// assert_eq!(m.row(0).collect::<Vec<_>>(), [(0, 2.0), (3, 1.0)]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    ncols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

/// A row whose columns are out of range or not strictly increasing, or whose weights are not
/// finite and non-negative.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid feature row {row}: {reason}")]
pub struct InvalidRow {
    /// Index of the row.
    pub row: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FeatureMatrix {
    /// An empty matrix with `ncols` columns.
    pub fn new(ncols: usize) -> Self {
        FeatureMatrix {
            ncols,
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Builds a matrix from dense rows (for tests and small data); zeros are left out.
    pub fn from_dense(rows: &ndarray::Array2<f64>) -> Result<Self, InvalidRow> {
        let mut m = FeatureMatrix::new(rows.ncols());
        let mut v = FeatureVector::default();
        for row in rows.rows() {
            v.clear();
            for (j, &x) in row.iter().enumerate() {
                if x != 0.0 {
                    v.indices.push(j as u32);
                    v.values.push(x);
                }
            }
            m.push(&v)?;
        }
        Ok(m)
    }

    /// Appends a row after checking it.
    pub fn push(&mut self, row: &FeatureVector) -> Result<(), InvalidRow> {
        let bad = |reason| InvalidRow {
            row: self.nrows(),
            reason,
        };
        if row.indices.len() != row.values.len() {
            return Err(bad("indices and values differ in length"));
        }
        if row.indices.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("column indices are not strictly increasing"));
        }
        if row
            .indices
            .last()
            .is_some_and(|&j| j as usize >= self.ncols)
        {
            return Err(bad("column index out of range"));
        }
        if row.values.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(bad("weights must be finite and non-negative"));
        }
        self.indices.extend_from_slice(&row.indices);
        self.values.extend_from_slice(&row.values);
        self.indptr.push(self.indices.len());
        Ok(())
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// The `(column, weight)` pairs of row `i`.
    ///
    /// # Panics
    /// If `i >= self.nrows()`.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (start, end) = (self.indptr[i], self.indptr[i + 1]);
        self.indices[start..end]
            .iter()
            .zip(&self.values[start..end])
            .map(|(&j, &v)| (j as usize, v))
    }
}

impl Records for FeatureMatrix {
    type Elem = f64;

    fn nsamples(&self) -> usize {
        self.nrows()
    }

    fn nfeatures(&self) -> usize {
        self.ncols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_rows() {
        let mut m = FeatureMatrix::new(3);
        let row = |i: Vec<u32>, v: Vec<f64>| FeatureVector {
            indices: i,
            values: v,
        };
        assert!(m.push(&row(vec![1, 1], vec![1.0, 1.0])).is_err());
        assert!(m.push(&row(vec![3], vec![1.0])).is_err());
        assert!(m.push(&row(vec![0], vec![f64::NAN])).is_err());
        assert!(m.push(&row(vec![0], vec![-1.0])).is_err());
        assert!(m.push(&row(vec![0, 2], vec![1.0])).is_err());
        assert_eq!(m.nrows(), 0);
        m.push(&row(vec![0, 2], vec![1.0, 4.0])).unwrap();
        assert_eq!(m.nnz(), 2);
    }

    #[test]
    fn from_dense_skips_zeros() {
        let dense = ndarray::array![[0.0, 1.0], [2.0, 0.0]];
        let m = FeatureMatrix::from_dense(&dense).unwrap();
        assert_eq!(m.row(0).collect::<Vec<_>>(), [(1, 1.0)]);
        assert_eq!(m.row(1).collect::<Vec<_>>(), [(0, 2.0)]);
    }
}
