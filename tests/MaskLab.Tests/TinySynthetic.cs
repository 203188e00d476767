using MaskLab.Platform;
using MaskLab.Synthetic;

namespace MaskLab.Tests;

/// <summary>
/// One tiny synthetic set in the competition layout, generated once for the tests that train: small photos and
/// few people so that a training run takes seconds on two cores.
/// </summary>
public sealed class TinySynthetic
{
    public static readonly SynthOptions Options = new(People: 90, EvalPeople: 12, Width: 48, Height: 64, Seed: 11);

    static readonly Lazy<string> Folder = new(() =>
    {
        NativeSetup.Initialize();
        var dir = Path.Combine(Path.GetTempPath(), $"masklab-tests-synth-{Options.People}-{Options.EvalPeople}-{Options.Width}x{Options.Height}-{Options.Seed}");
        SyntheticGenerator.Generate(dir, Options);
        return dir;
    });

    /// <summary>The generated set's root (holds train/ and eval/); generated on first use, reused after.</summary>
    public static string Root => Folder.Value;

    /// <summary>A fresh copy of the set that a test may damage.</summary>
    public static string CopyTo(string destination)
    {
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return destination;
    }
}
