namespace MaskLab.Synthetic;

/// <summary>
/// The embedded default data set: a synthetic look-alike generated once per size and seed into the user's
/// MaskLab folder, then reused by every run that names no data.
/// </summary>
public static class DefaultData
{
    public static SynthOptions Options(int people, int evalPeople) => new(People: people, EvalPeople: evalPeople, Seed: 42);

    public static string FolderFor(SynthOptions o) =>
        Path.Combine(MaskLabHome.Root, $"synthetic-p{o.People}-e{o.EvalPeople}-{o.Width}x{o.Height}-s{o.Seed}");

    /// <summary>Returns the folder of the default set, generating it first if it is not complete.</summary>
    public static string Ensure(int people, int evalPeople, Action<string>? stage = null, Action<int, int>? progress = null, CancellationToken ct = default)
    {
        var options = Options(people, evalPeople);
        var dir = FolderFor(options);
        if (SyntheticGenerator.IsComplete(dir, options)) return dir;
        int total = (options.People + options.EvalPeople) * 7;
        stage?.Invoke(Directory.Exists(dir)
            ? $"the synthetic default set in {dir} is incomplete or damaged: generating it again ({options.People} + {options.EvalPeople} people)"
            : $"generating the synthetic default set ({options.People} + {options.EvalPeople} people) in {dir}");
        // The folder is MaskLab's cache: what it holds that is not the complete set is replaced, not refused.
        SyntheticGenerator.Generate(dir, options, new SyncProgress<int>(done => progress?.Invoke(done, total)), ct, replaceOther: true);
        return dir;
    }
}
