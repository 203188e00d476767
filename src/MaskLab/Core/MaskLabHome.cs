namespace MaskLab.Core;

/// <summary>The user's MaskLab folder for generated and converted files: MASKLAB_HOME, else ~/.cache/masklab.</summary>
public static class MaskLabHome
{
    public static string Root => Environment.GetEnvironmentVariable("MASKLAB_HOME") is { Length: > 0 } home
        ? home
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "masklab");
}
