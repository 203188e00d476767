namespace MaskLab.Core;

/// <summary>
/// Bad input the user can fix (a file, folder or value). The CLI prints <see cref="Exception.Message"/> as one
/// line and exits 2; the message must name the file or value.
/// </summary>
public class MaskLabInputException(string message) : Exception(message);
