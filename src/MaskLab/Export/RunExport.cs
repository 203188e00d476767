using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Models;

namespace MaskLab.Export;

/// <summary>What exporting a trained run did: the file, and how far ONNX Runtime's probabilities were from MaskLab's on real photos.</summary>
public sealed record RunExportResult(OnnxExportResult File, ExportSpec Spec, int PhotosChecked, double MaxProbabilityDiff);

/// <summary>Exports a trained run as it predicts: the weights of its eval prediction (its eval_checkpoint), input size, head and input normalisation.</summary>
public static class RunExport
{
    /// <summary>The export spec that reproduces the run's predictions: its size, class count, head and normalisation.</summary>
    public static ExportSpec SpecOf(TrainedRun run) =>
        new(run.Config.ImageSize.Width, run.Config.ImageSize.Height, run.Classes)
        {
            Head = run.Config.Head == HeadKind.Multi ? ExportHead.Multi : ExportHead.Single,
            OrdinalAge = (run.Head as OrdinalAgeHead)?.Spec.Cuts,
            AgeOverThreshold = (run.Head as OrdinalAgeHead)?.Spec.OverThreshold ?? Models.AgeOrdinal.EvenThreshold,
            Input = run.Config.Input,
            ClassNames = run.Result.ClassNames.Count == run.Classes ? run.Result.ClassNames : null,
        };

    /// <summary>
    /// Writes the ONNX file of the run in <paramref name="runDir"/>, then runs it in ONNX Runtime on up to
    /// <paramref name="maxPhotos"/> of <paramref name="photos"/>, fed as the graph takes them (RGB in 0..1 at the
    /// run's size), beside MaskLab's own prediction of the same photos, and returns the largest probability difference.
    /// </summary>
    public static RunExportResult Write(string runDir, string outFile, IReadOnlyList<Sample> photos, int maxPhotos = 256,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        using var run = TrainedRun.Load(runDir);
        var spec = SpecOf(run);
        var file = OnnxExport.Write(run.Model, run.Config.Model, spec, outFile);
        var chosen = photos.Take(Math.Max(0, maxPhotos)).ToArray();
        if (chosen.Length == 0) return new RunExportResult(file, spec, 0, double.NaN);

        var cache = new ImageCache(spec.Width, spec.Height);
        cache.PreloadAll(chosen.Select(p => p.Path).ToArray(), null, ct);
        var ours = run.Probabilities(chosen, cache, tta: false, ct: ct);
        var indices = Enumerable.Range(0, chosen.Length).ToArray();
        var raw = new BatchLoader(chosen, indices, s => s.Label, cache,
            LoaderOptions.ForEvaluation(Inference.BatchSize, spec.Width, spec.Height) with { Normalization = InputNormalization.LoaderPassThrough });
        double max = 0;
        int row = 0;
        foreach (var batch in raw.Epoch(0))
        {
            using (batch)
            {
                ct.ThrowIfCancellationRequested();
                var theirs = OnnxExport.Probabilities(file.Path, batch.Images);
                for (int i = 0; i < batch.Count; i++)
                    for (int c = 0; c < run.Classes; c++)
                        max = Math.Max(max, Math.Abs(theirs[i, c] - ours[row + i, c]));
                row += batch.Count;
                progress?.Report((row, chosen.Length));
            }
        }
        return new RunExportResult(file, spec, chosen.Length, max);
    }
}
