using SkiaSharp;

namespace MaskLab.Tests;

/// <summary>A fresh folder under the system temp folder, deleted with everything in it on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateDirectory(
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "masklab-test-" + Guid.NewGuid().ToString("N"))).FullName;

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Writers of tiny data folders in the layouts the readers accept.</summary>
public static class Fixtures
{
    public static readonly string[] PhotoStems = ["mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal"];

    static readonly Lazy<byte[]> Jpeg = new(() => Encode(SKEncodedImageFormat.Jpeg));
    static readonly Lazy<byte[]> Png = new(() => Encode(SKEncodedImageFormat.Png));

    /// <summary>A real 8x8 image, so a fixture also serves decoders; the readers themselves never decode.</summary>
    static byte[] Encode(SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(8, 8);
        bitmap.Erase(new SKColor(200, 120, 40));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>Writes an image whose bytes match its extension where Skia can encode it; other kinds get a stub.</summary>
    /// <summary>A plain PNG of <paramref name="width"/> x <paramref name="height"/>, as bytes (an upload).</summary>
    public static byte[] PngBytes(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(new SKColor(90, 140, 200));
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(SKEncodedImageFormat.Png, 90).ToArray();
    }

    public static string WriteImage(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var bytes = System.IO.Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jpg" or ".jpeg" => Jpeg.Value,
            ".png" => Png.Value,
            _ => [0x42, 0x4D, 0, 0],
        };
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>
    /// Writes <c>train/images/&lt;folder&gt;/</c> with the seven photos (extensions cycling through .jpg/.jpeg/.png, as
    /// in the real data) for each folder name, and train.csv listing them when <paramref name="csv"/> is set.
    /// </summary>
    public static string WriteTrain(string trainDir, IEnumerable<string> folders, bool csv = true)
    {
        var names = folders.ToList();
        string[] exts = [".jpg", ".jpeg", ".png"];
        var n = 0;
        foreach (var folder in names)
            foreach (var stem in PhotoStems)
                WriteImage(System.IO.Path.Combine(trainDir, "images", folder, stem + exts[n++ % exts.Length]));
        Directory.CreateDirectory(System.IO.Path.Combine(trainDir, "images"));
        if (csv) WriteTrainCsv(trainDir, names);
        return trainDir;
    }

    public static void WriteTrainCsv(string trainDir, IEnumerable<string> folders, string header = "id,gender,race,age,path")
    {
        var lines = new List<string> { header };
        foreach (var folder in folders)
        {
            var p = folder.Split('_');
            lines.Add(p.Length >= 4 ? $"{p[0]},{p[1]},{p[2]},{p[3]},{folder}" : $",,,,{folder}");
        }
        File.WriteAllLines(System.IO.Path.Combine(trainDir, "train.csv"), lines);
    }

    /// <summary>Folder names of <paramref name="count"/> people with varied genders and ages.</summary>
    public static IEnumerable<string> People(int count, int firstId = 1) =>
        Enumerable.Range(firstId, count).Select(i =>
            $"{i:000000}_{(i % 2 == 0 ? "male" : "female")}_Asian_{new[] { 20, 45, 60, 29, 30, 59 }[i % 6]}");

    /// <summary>Writes eval/info.csv (ImageID,ans with ans 0) in the given order and the listed images.</summary>
    public static string WriteEval(string evalDir, IEnumerable<string> imageIds, IEnumerable<string>? skipImages = null)
    {
        var ids = imageIds.ToList();
        var skip = (skipImages ?? []).ToHashSet();
        Directory.CreateDirectory(System.IO.Path.Combine(evalDir, "images"));
        foreach (var id in ids.Where(i => !skip.Contains(i)))
            WriteImage(System.IO.Path.Combine(evalDir, "images", id));
        File.WriteAllLines(System.IO.Path.Combine(evalDir, "info.csv"), ["ImageID,ans", .. ids.Select(i => $"{i},0")]);
        return evalDir;
    }

    /// <summary>Writes <c>dir/&lt;class&gt;/img&lt;i&gt;.&lt;ext&gt;</c> for each class.</summary>
    public static string WriteImageFolder(string dir, IEnumerable<string> classes, int perClass = 2, string ext = ".png")
    {
        foreach (var cls in classes)
            for (var i = 0; i < perClass; i++)
                WriteImage(System.IO.Path.Combine(dir, cls, $"img{i}{ext}"));
        return dir;
    }

    public static void WriteText(string path, string text)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
