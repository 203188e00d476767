using System.Text.Json;

namespace MaskLab.Training;

/// <summary>The files of one run. Every file is replaced atomically (temporary file, then rename).</summary>
public sealed class RunDirectory(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public string ConfigFile => Combine("config.yaml");
    public string MetricsFile => Combine("metrics.jsonl");
    public string SummaryFile => Combine("summary.json");
    public string SplitFile => Combine("split.json");
    public string ConfusionFile => Combine("confusion.csv");
    public string PerClassFile => Combine("per_class.csv");
    public string LastCheckpoint => Combine("checkpoints", "last.ckpt");
    public string BestCheckpoint => Combine("checkpoints", "best.ckpt");
    public string TensorBoardDir => Combine("tensorboard");
    public string SubmissionFile => Combine("submission.csv");

    /// <summary>Written by a sweep when the run's loss diverged: the reason, one line. Delete the run folder to retry.</summary>
    public string FailureFile => Combine("failure.txt");

    string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public bool HasConfig => File.Exists(ConfigFile);

    public void Create()
    {
        Directory.CreateDirectory(Path);
        Directory.CreateDirectory(Combine("checkpoints"));
    }

    public static void WriteAllTextAtomic(string file, string text) => AtomicFile.WriteText(file, w => w.Write(text));

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteJsonAtomic<T>(string file, T value) => WriteAllTextAtomic(file, JsonSerializer.Serialize(value, Indented));

    public void AppendMetrics(EpochRecord record) => File.AppendAllText(MetricsFile, JsonSerializer.Serialize(record) + "\n");

    public IReadOnlyList<EpochRecord> ReadMetrics() => File.Exists(MetricsFile)
        ? File.ReadAllLines(MetricsFile).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<EpochRecord>(l)!).ToList()
        : [];

    /// <summary>On resume, forgets epochs after the checkpoint so metrics.jsonl matches the weights.</summary>
    public void TruncateMetrics(int epochsDone) =>
        WriteAllTextAtomic(MetricsFile, string.Concat(ReadMetrics().Where(r => r.Epoch <= epochsDone)
            .Select(r => JsonSerializer.Serialize(r) + "\n")));

    public TrainSummary? ReadSummary() => File.Exists(SummaryFile)
        ? JsonSerializer.Deserialize<TrainSummary>(File.ReadAllText(SummaryFile)) : null;

    public TrainConfig ReadConfig()
    {
        if (!HasConfig) throw new MaskLabInputException($"'{Path}' is not a MaskLab run (no config.yaml)");
        return TrainConfig.Load(ConfigFile);
    }
}
