// The tests exercise every layer of the library.
global using MaskLab.Benchmarks;
global using MaskLab.Data.Faces;
global using MaskLab.Data.Layout;
global using MaskLab.Data.Loading;
global using MaskLab.Evaluation;
global using MaskLab.Experiments;
global using MaskLab.Losses;
global using MaskLab.Models;
global using MaskLab.Platform;
global using MaskLab.Runs;
global using MaskLab.Synthetic;
global using MaskLab.Tracking;
global using MaskLab.Training;
