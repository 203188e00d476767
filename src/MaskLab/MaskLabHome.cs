namespace MaskLab;

/// <summary>
/// The user's MaskLab cache folder: <c>MASKLAB_HOME</c> when set, else <c>~/.cache/masklab</c>. Generated data
/// sets and converted pretrained weights live under it.
/// </summary>
public static class MaskLabHome
{
    public static string Root => Environment.GetEnvironmentVariable("MASKLAB_HOME") is { Length: > 0 } home
        ? home
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "masklab");
}
