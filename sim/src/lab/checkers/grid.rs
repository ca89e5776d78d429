//! A table with one row per transaction, kept between runs: a sweep judges
//! tens of thousands of small runs, and a map per checker per run cost
//! more in allocation than the checks themselves. Rows are read in
//! transaction order, columns in the order the checker numbers them, so a
//! walk over the grid meets keys in the order a `BTreeMap<(TxId, _), _>`
//! would.

use crate::protocols::workload::TxId;

/// Cells by (transaction, column); a cell never touched holds
/// `T::default()`.
#[derive(Clone, Debug, Default)]
pub struct Grid<T> {
    cols: usize,
    cells: Vec<T>,
}

impl<T: Clone + Default> Grid<T> {
    /// Empty the grid for a run of `rows` transactions with `cols` columns
    /// each (the memory is kept).
    pub fn reset(&mut self, rows: usize, cols: usize) {
        self.cols = cols;
        self.cells.clear();
        self.cells.resize(rows * cols, T::default());
    }

    /// The cell of `tx` at `col`, the grid growing when `tx` lies past its
    /// rows (a hand-made log may name transactions its workflow does not
    /// have; observations name real ones, never [`TxId::NONE`]).
    pub fn at(&mut self, tx: TxId, col: usize) -> &mut T {
        debug_assert!(col < self.cols, "grid column {col} of {}", self.cols);
        let i = tx.0 as usize * self.cols + col;
        if i >= self.cells.len() {
            self.cells
                .resize((tx.0 as usize + 1) * self.cols, T::default());
        }
        &mut self.cells[i]
    }

    /// The cell of `tx` at `col`, if the grid has that row.
    pub fn get(&self, tx: TxId, col: usize) -> Option<&T> {
        self.cells.get(tx.0 as usize * self.cols + col)
    }

    /// The row of `tx` (empty if the grid has no such row).
    pub fn row(&self, tx: TxId) -> &[T] {
        let start = tx.0 as usize * self.cols;
        self.cells.get(start..start + self.cols).unwrap_or(&[])
    }

    /// Every row in transaction order, with its transaction.
    pub fn rows(&self) -> impl Iterator<Item = (TxId, &[T])> {
        self.cells
            .chunks(self.cols.max(1))
            .enumerate()
            .map(|(i, row)| (TxId(i as u32), row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reset empties every cell, and a row past the end grows the grid
    /// instead of panicking.
    #[test]
    fn reset_clears_and_rows_grow() {
        let mut g: Grid<u32> = Grid::default();
        g.reset(1, 2);
        *g.at(TxId(0), 1) = 7;
        *g.at(TxId(2), 0) = 9;
        let rows: Vec<(TxId, Vec<u32>)> = g.rows().map(|(t, r)| (t, r.to_vec())).collect();
        assert_eq!(
            rows,
            vec![
                (TxId(0), vec![0, 7]),
                (TxId(1), vec![0, 0]),
                (TxId(2), vec![9, 0])
            ]
        );
        g.reset(1, 2);
        assert_eq!(g.get(TxId(0), 1), Some(&0));
        assert_eq!(g.get(TxId(2), 0), None);
    }
}
