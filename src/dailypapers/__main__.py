from dailypapers.cli import main

main()
