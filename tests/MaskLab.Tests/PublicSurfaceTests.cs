using System.Reflection;
using System.Text.RegularExpressions;

namespace MaskLab.Tests;

/// <summary>
/// The library's public types are exactly those docs/API.md lists: everything else is internal (the tests and the
/// bench programs see internals). A type made public without a line there, or a listed type made internal or
/// moved to another namespace, fails here by name. Nested types follow their parent and are not listed.
/// </summary>
public class PublicSurfaceTests
{
    static readonly Assembly Library = typeof(RunConfig).Assembly;

    /// <summary>The public top-level types of the compiled library, by full name as C# writes it (<c>SyncProgress&lt;T&gt;</c>).</summary>
    static SortedSet<string> Exported() =>
        new(Library.GetExportedTypes().Where(t => !t.IsNested).Select(CSharpName), StringComparer.Ordinal);

    static string CSharpName(Type t) => t.IsGenericTypeDefinition
        ? $"{t.Namespace}.{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(a => a.Name))}>"
        : t.FullName!;

    /// <summary>
    /// The types docs/API.md lists, by full name: each <c>## MaskLab.X</c> heading names a namespace, and each table
    /// row under it starting with a backticked name is one type of it, with what it is in the last cell.
    /// </summary>
    static SortedSet<string> Documented(IEnumerable<string> lines)
    {
        var listed = new SortedSet<string>(StringComparer.Ordinal);
        string? ns = null;
        var n = 0;
        foreach (var line in lines)
        {
            n++;
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                ns = Regex.IsMatch(line, @"^## MaskLab(\.\w+)*$") ? line[3..] : null;
                continue;
            }
            var row = Regex.Match(line, @"^\| `(\w+(?:<[\w, ]+>)?)` \|(.*)\|$");
            if (!row.Success) continue;
            Assert.True(ns is not null, $"docs/API.md line {n}: {row.Groups[1].Value} is not under a '## MaskLab.<namespace>' heading");
            Assert.True(row.Groups[2].Value.Split('|')[^1].Trim().Length > 0, $"docs/API.md line {n}: {row.Groups[1].Value} does not say what it is");
            Assert.True(listed.Add($"{ns}.{row.Groups[1].Value}"), $"docs/API.md line {n}: {ns}.{row.Groups[1].Value} is listed twice");
        }
        return listed;
    }

    /// <summary>The message for two lists that differ: every type public but not listed, and listed but not public.</summary>
    static string Differences(IReadOnlySet<string> exported, IReadOnlySet<string> documented)
    {
        var extra = exported.Where(t => !documented.Contains(t)).ToList();
        var missing = documented.Where(t => !exported.Contains(t)).ToList();
        var lines = new List<string>();
        if (extra.Count > 0)
            lines.Add($"public but not in docs/API.md (make them internal, or add a line for each): {string.Join(", ", extra)}");
        if (missing.Count > 0)
            lines.Add($"in docs/API.md but not public in the library (take the line out, or fix its namespace): {string.Join(", ", missing)}");
        return string.Join("\n", lines);
    }

    [Fact]
    public void The_public_types_are_the_ones_docs_API_md_lists()
    {
        var documented = Documented(File.ReadLines(Path.Combine(RepoRoot.Path, "docs", "API.md")));
        var exported = Exported();
        var differences = Differences(exported, documented);
        Assert.True(differences.Length == 0, differences);
    }

    [Fact]
    public void The_check_reads_the_list_and_names_what_differs()
    {
        // A reader that found nothing, or an assembly scan that saw nothing, would fail the test above loudly; this
        // checks that both see what they should and that a difference is reported by name.
        var documented = Documented(File.ReadLines(Path.Combine(RepoRoot.Path, "docs", "API.md")));
        Assert.Contains("MaskLab.Runs.RunConfig", documented);
        Assert.Contains("MaskLab.Data.Faces.BlazeFaceDetector", documented);
        Assert.True(documented.Count > 100, $"only {documented.Count} types read from docs/API.md");
        Assert.Contains("MaskLab.Core.MaskLabInputException", Exported());
        Assert.Contains("MaskLab.Core.SyncProgress<T>", Exported());   // a generic type as C# names it
        Assert.DoesNotContain(Exported(), t => t.Contains('+'));   // nested types are not listed

        var parsed = Documented(["## MaskLab.Core", "", "| type | kind | what it is |", "|---|---|---|",
            "| `Yaml` | static class | The one YAML reader |", "| `Echo` | static class | Quotes a value |",
            "| `Box<T>` | class | A generic one |"]);
        Assert.Equal(["MaskLab.Core.Box<T>", "MaskLab.Core.Echo", "MaskLab.Core.Yaml"], parsed);
        var message = Differences(new SortedSet<string> { "MaskLab.Core.Yaml", "MaskLab.Core.Box<T>", "MaskLab.Core.NewThing" }, parsed);
        Assert.Contains("public but not in docs/API.md (make them internal, or add a line for each): MaskLab.Core.NewThing", message);
        Assert.Contains("in docs/API.md but not public in the library (take the line out, or fix its namespace): MaskLab.Core.Echo", message);
        Assert.Throws<Xunit.Sdk.TrueException>(() => Documented(["| `Stray` | class | Before any heading |"]));
        Assert.Throws<Xunit.Sdk.TrueException>(() => Documented(["## MaskLab.Core", "| `Blank` | class |  |"]));
    }
}
