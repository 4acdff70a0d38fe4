"""What the history tells: ETA, stalls, processing-time analytics and exports, as plain values and DataFrames."""
