using MaskLab.Data.Layout;

namespace MaskLab.Experiments;

/// <summary>
/// The check every command makes before it writes a file of its own (a submission, class probabilities, label fixes,
/// a report, an ONNX graph): the file is never one of the command's inputs, never inside a run, k-fold or sweep folder
/// (whose files the runs own), and never inside a data set (the competition layout's folders, or the image folder the
/// command reads). Links are followed, so a link cannot lead an output into any of them.
/// </summary>
public static class OutputFile
{
    /// <summary>Refuses <paramref name="path"/>, given as <paramref name="option"/>, where it would replace an input or land in a run or a data set.</summary>
    /// <param name="inputs">Files the command reads (compared by real path).</param>
    /// <param name="dataDirs">Data folders the command reads: nothing may be written below them.</param>
    /// <exception cref="MaskLabInputException">One line naming the option, the path and what it would overwrite.</exception>
    public static void Check(string option, string path, IEnumerable<string?>? inputs = null, IEnumerable<string?>? dataDirs = null)
    {
        var real = RealPath.Of(path);
        var shown = $"{option} '{Echo.Of(path)}'";
        if (Directory.Exists(real)) throw new MaskLabInputException($"{shown} is a folder: name the file to write");
        foreach (var input in (inputs ?? []).OfType<string>())
            if (RealPath.Of(input) == real)
                throw new MaskLabInputException($"{shown} is '{Echo.Of(input)}', an input of this command: write the output elsewhere");
        foreach (var data in (dataDirs ?? []).OfType<string>())
            if (Inside(real, RealPath.Of(data)))
                throw new MaskLabInputException($"{shown} lies inside the data set '{Echo.Of(data)}': an output never goes into a data set; write it elsewhere");
        for (var dir = Path.GetDirectoryName(real); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            var what = Owner(dir);
            if (what is not null)
                throw new MaskLabInputException($"{shown} lies inside {what} '{dir}', whose files {(what == "the data set" ? "are its data" : "the run owns")}: write the output elsewhere");
        }
    }

    /// <summary>What owns the files of <paramref name="dir"/>: a run, a k-fold run, a sweep, a data set; null for a folder of the user's.</summary>
    static string? Owner(string dir)
    {
        if (DataLocator.IsDataSetFolder(dir)) return "the data set";
        FolderKind kind;
        try { kind = OutFolder.KindOf(dir); }
        catch (MaskLabInputException) { return null; }
        return kind switch
        {
            FolderKind.Run => "the run folder",
            FolderKind.KFoldRoot => "the k-fold run",
            FolderKind.Sweep => "the sweep folder",
            _ => null,
        };
    }

    static bool Inside(string path, string dir) =>
        path == dir || path.StartsWith(Path.TrimEndingDirectorySeparator(dir) + "/", StringComparison.Ordinal);
}
