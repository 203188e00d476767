namespace MaskLab.Data.Layout;

/// <summary>
/// Collects every problem a reader finds before failing, so one run names all the bad folders and files instead of
/// making the user fix them one at a time. The final message stays on one line and names the first few.
/// </summary>
internal sealed class ReadProblems(string where)
{
    const int Shown = 5;

    readonly List<(string Item, string Reason, bool IsFolder)> items = [];

    public int Count => items.Count;

    public void AddFolder(string folder, string reason) => items.Add((folder, reason, true));

    public void AddFile(string file, string reason) => items.Add((file, reason, false));

    public void ThrowIfAny()
    {
        if (items.Count == 0) return;
        var folders = items.Count(p => p.IsFolder);
        var noun = folders == items.Count ? "bad folder" : folders == 0 ? "bad file" : "problem";
        throw new MaskLabInputException($"{items.Count} {Plural(noun, items.Count)} under {where}: {Listing(items.Select(p => $"{p.Item} ({p.Reason})"))}");
    }

    /// <summary>"a, b, c, d, e and 7 more": long lists would bury the line the CLI prints.</summary>
    public static string Listing(IEnumerable<string> entries, int shown = Shown)
    {
        var all = entries.ToList();
        var head = string.Join(", ", all.Take(shown));
        return all.Count > shown ? $"{head} and {all.Count - shown} more" : head;
    }

    public static string Plural(string noun, int count) => count == 1 ? noun : noun + "s";
}
