using MaskLab.Synthetic;

namespace MaskLab.Training;

/// <summary>
/// The embedded default data set: a synthetic look-alike generated once per size and seed into the user's
/// cache folder, then reused by every run that names no data.
/// </summary>
public static class DefaultData
{
    public static string Root => Environment.GetEnvironmentVariable("MASKLAB_HOME") is { Length: > 0 } home
        ? home
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "masklab");

    public static SynthOptions Options(TrainConfig c) => new(People: c.SynthPeople, EvalPeople: c.SynthEvalPeople, Seed: 42);

    public static string FolderFor(SynthOptions o) =>
        Path.Combine(Root, $"synthetic-p{o.People}-e{o.EvalPeople}-{o.Width}x{o.Height}-s{o.Seed}");

    /// <summary>Returns the folder of the default set, generating it first if it is not complete.</summary>
    public static string Ensure(TrainConfig c, ITrainingObserver observer, CancellationToken ct)
    {
        var options = Options(c);
        var dir = FolderFor(options);
        if (SyntheticGenerator.IsComplete(dir, options)) return dir;
        int total = (options.People + options.EvalPeople) * 7;
        observer.Stage($"generating the synthetic default set ({options.People} + {options.EvalPeople} people) in {dir}");
        var progress = new SyncProgress<int>(done => observer.Progress("synthesising photos", done, total));
        SyntheticGenerator.Generate(dir, options, progress, ct);
        return dir;
    }
}
