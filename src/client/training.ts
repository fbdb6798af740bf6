/**
 * `tandem/training`: the built-in trainers (docs/guides/training.md) for code outside this repository,
 * and the flights sample the guides train on. Pure functions: no store, no server.
 */
export { trainModel } from "../core/training/train.js";
export type { Algorithm, ColumnValues, TrainModelOptions, TrainModelResult } from "../core/training/train.js";
export { flightsColumns, flightsParquetPath, readFlights } from "../core/training/flights.js";
export type { FlightsTable, FlightsTask } from "../core/training/flights.js";
